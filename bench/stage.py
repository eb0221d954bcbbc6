"""One stage alone, with 1 and then 2 workers: does scaling out pay (design.md §9: >= 1.6x)?

Usage: python bench/stage.py [N]   (default 200000 records, stage: validate)

Starts a broker, creates the topics, starts K validate workers and waits until they have joined,
then publishes N parsed records (as ingest would) and times until all N arrive validated.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from edcs.stack import free_port, port_open, tansu_binary, wait_until
from services.ingest.parser import parse_file
from shared.catalog.loader import default_catalog
from shared.events.models import FileReceived
from shared.messaging.kafka import create_topics
from shared.settings import KafkaSettings, PipelineSettings

TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"


def parsed_messages(n: int, work: Path) -> list[tuple[bytes, bytes]]:
    """(key, value) of every records.parsed message of an N-record file."""
    data = work / "senr.csv"
    subprocess.run([sys.executable, str(TOOLS / "gen_senr.py"), str(n), str(data),
                    "--errors", "0"], check=True)
    event = FileReceived(submission_id=1, collection="SENR", institution_id="1964733",
                         submitted_on=dt.date.today(), sha256="-", delimiter=",")
    layout = default_catalog().layouts["SENR"]
    out = parse_file(event, io.BytesIO(data.read_bytes()), layout, PipelineSettings())
    return [(o.key, o.value) for o in out]


async def publish_and_count(bootstrap: str, messages: list[tuple[bytes, bytes]],
                            n: int) -> float:
    """Publish the records, and return seconds until all N come out validated."""
    consumer = AIOKafkaConsumer("records.validated", bootstrap_servers=bootstrap,
                                auto_offset_reset="latest", group_id=None)
    await consumer.start()
    await consumer.getmany(timeout_ms=1000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10,
                                max_batch_size=131072, max_request_size=4_194_304)
    await producer.start()
    started = time.perf_counter()
    for key, value in messages:
        await producer.send("records.parsed", value, key=key)
    await producer.flush()
    seen = 0
    while seen < n:
        for batch in (await consumer.getmany(timeout_ms=1000)).values():
            for message in batch:
                event = json.loads(message.value)
                if event["type"] == "record-batch":
                    seen += len(event["records"])
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return elapsed


def run(workers: int, messages: list[tuple[bytes, bytes]], n: int) -> float:
    """Time N records through ``workers`` validate workers on a fresh broker."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", url,
                               "--advertised-listener-url", url], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        wait_until(lambda: port_open(port), "broker")
        bootstrap = f"127.0.0.1:{port}"
        create_topics(KafkaSettings(bootstrap_servers=bootstrap))
        ports = [free_port() for _ in range(workers)]
        for metrics in ports:
            env = {**os.environ, "EDCS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
                   "EDCS_METRICS_PORT": str(metrics)}
            procs.append(subprocess.Popen([sys.executable, "-m", "services.validate"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for metrics in ports:
            wait_until(lambda m=metrics: _ready(m), "validate worker", timeout=60)
        time.sleep(6)  # the second member's join makes the group rebalance once more
        return asyncio.run(publish_and_count(bootstrap, messages, n))
    finally:
        for p in [*procs, broker]:
            p.terminate()
            p.wait()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return bool(json.load(r)["ready"])
    except OSError:
        return False


def main() -> None:
    """Print the stage's rate with one and with two workers, and the speed-up."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory(prefix="edcs-stage-") as tmp:
        messages = parsed_messages(n, Path(tmp))
    one = run(1, messages, n)
    two = run(2, messages, n)
    print(f"validate stage, {n:,} records: 1 worker {one:.1f} s ({n / one:,.0f}/s); "
          f"2 workers {two:.1f} s ({n / two:,.0f}/s); speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
