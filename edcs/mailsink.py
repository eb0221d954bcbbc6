"""A local SMTP server (aiosmtpd) that keeps every message it receives as an .eml file.

``python -m edcs.mailsink --dir DIR --port PORT``: the embedded stack's stand-in for a relay.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class KeepMessages:
    """aiosmtpd handler writing each message to ``DIR/<time>-<id>.eml`` atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Store one message; the name sorts by arrival."""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
        tmp = self.directory / f".{name}"
        data = envelope.content if isinstance(envelope.content, bytes) else (
            envelope.content.encode())
        tmp.write_bytes(data)
        tmp.replace(self.directory / name)
        return "250 Message accepted for delivery"


def start(directory: Path, port: int) -> Controller:
    """Start the sink on 127.0.0.1:port in a background thread."""
    controller = Controller(KeepMessages(directory), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def main() -> None:
    """Run the sink until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    controller = start(args.dir, args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
