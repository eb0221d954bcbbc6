"""``edcs up --monitoring``: Prometheus as one more child of the stack.

Debian's ``prometheus`` binary (on PATH or in /usr/bin) runs with a scrape config generated from
the stack's own ports (every worker, the web app and edcs up itself), the alert rules of
edcs.alerts, and its data in ``DIR/prometheus``. Without the binary the stack runs on and says
how to install it.
"""

from __future__ import annotations

import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from edcs.alerts import rules_yaml
from shared.settings import MonitoringSettings

if TYPE_CHECKING:
    from edcs.stack import Stack

INSTALL_HINT = ("Prometheus is not installed, so edcs runs without monitoring. Install it with "
                "`sudo apt-get install --no-install-recommends prometheus` (Debian, Ubuntu) "
                "and start edcs up --monitoring again.")


@dataclass(frozen=True)
class Target:
    """One process Prometheus scrapes."""

    job: str  # edcs-workers, edcs-web or edcs-stack
    process: str  # the child's name: validate, validate-2, web, stack
    stage: str  # the worker's stage; the job's own name for the others
    port: int


def prometheus_binary() -> Path | None:
    """Debian's Prometheus, if installed."""
    found = shutil.which("prometheus")
    if found:
        return Path(found)
    fallback = Path("/usr/bin/prometheus")
    return fallback if fallback.exists() else None


def _seconds(value: float) -> str:
    return f"{value:g}s"


def scrape_config(targets: list[Target], settings: MonitoringSettings,
                  rules_file: Path) -> dict[str, Any]:
    """prometheus.yml for the embedded stack: one static target per process, labelled with
    its process and stage names (the alert rules and dashboards group by them)."""
    jobs: dict[str, list[dict[str, Any]]] = {}
    for t in targets:
        jobs.setdefault(t.job, []).append({
            "targets": [f"127.0.0.1:{t.port}"],
            "labels": {"process": t.process, "stage": t.stage}})
    interval = _seconds(settings.scrape_seconds)
    return {
        "global": {"scrape_interval": interval,
                   "scrape_timeout": _seconds(min(10.0, settings.scrape_seconds)),
                   "evaluation_interval": _seconds(settings.evaluation_seconds)},
        "rule_files": [str(rules_file)],
        # edcs up's metrics name each child in their own ``process`` label, which must win
        # over the target's (else Prometheus renames it exported_process).
        "scrape_configs": [{"job_name": job, "honor_labels": job == "edcs-stack",
                            "static_configs": static} for job, static in jobs.items()],
    }


def write_config(folder: Path, targets: list[Target], settings: MonitoringSettings) -> Path:
    """Write prometheus.yml and alerts.yml into ``folder``; returns prometheus.yml."""
    folder.mkdir(parents=True, exist_ok=True)
    rules = folder / "alerts.yml"
    rules.write_text(rules_yaml(settings.open_file_minutes, settings.alert_for_seconds))
    config = folder / "prometheus.yml"
    config.write_text("# Written by edcs up --monitoring for this stack's ports.\n"
                      + yaml.safe_dump(scrape_config(targets, settings, rules),
                                       sort_keys=False))
    return config


def prometheus_args(binary: Path, config: Path, data: Path, port: int) -> list[str]:
    """The command line of the stack's Prometheus (loopback only)."""
    return [str(binary), f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=15d",
            "--web.enable-lifecycle"]


def targets_of(stack: Stack) -> list[Target]:
    """Every process of the stack that serves /metrics."""
    found = [Target("edcs-stack", "stack", "stack", stack.metrics_port),
             Target("edcs-web", "web", "web", stack.web_port)]
    for name, child in stack.children.items():
        port = child.extra_env.get("EDCS_METRICS_PORT")
        if port is not None:
            found.append(Target("edcs-workers", name, name.split("-", 1)[0], int(port)))
    return found


def prepare_monitoring(stack: Stack) -> None:
    """Serve edcs up's own /metrics; with ``--monitoring``, pick Prometheus' port and tell the
    web app (the window page reads Prometheus' API)."""
    from edcs.stack import free_port
    from edcs.stackmetrics import serve_stack_metrics

    stack.metrics_port = stack.metrics_port or free_port()
    stack._metrics_server = serve_stack_metrics(stack, stack.metrics_port)
    if not stack.monitoring:
        return
    if prometheus_binary() is None:
        stack.say(INSTALL_HINT)
        stack.endpoints["prometheus"] = "not installed (see above)"
        return
    stack.prometheus_port = stack.prometheus_port or free_port()
    stack.env["EDCS_MONITORING__PROMETHEUS_URL"] = f"http://127.0.0.1:{stack.prometheus_port}"


def start_monitoring(stack: Stack) -> None:
    """Start Prometheus scraping every process of the stack (after the clients have their
    ports); its URL goes to ``stack.endpoints``."""
    from edcs.stack import port_open, wait_until

    binary = prometheus_binary()
    if not stack.monitoring or binary is None or stack.settings is None:
        return
    folder = stack.data_dir / "prometheus"
    config = write_config(folder, targets_of(stack), stack.settings.monitoring)
    stack.spawn("prometheus", prometheus_args(binary, config, folder / "data",
                                              stack.prometheus_port))
    url = f"http://127.0.0.1:{stack.prometheus_port}"
    wait_until(lambda: port_open(stack.prometheus_port) and _ready(url), "Prometheus",
               timeout=60)
    stack.endpoints["prometheus"] = f"{url} (alerts: {url}/alerts, config: {config})"


def _ready(url: str) -> bool:
    """Whether Prometheus answers its readiness endpoint (its API 503s until then)."""
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False
