"""deploy/ cannot run here (no Docker engine, no cluster), so it is checked: the compose file's
services, images, ports and every EDCS_* setting against the settings model; the Kubernetes
manifests against the schemas kubernetes-validate bundles, and KEDA's ScaledObjects (a CRD)
structurally; the Prometheus configs with promtool where it can."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel

from edcs.deploygen import ROOT
from edcs.stack import WORKERS as STACK_WORKERS
from shared.events.topics import Topic, spec
from shared.metrics import sample_names
from shared.settings import Settings
from tests.unit.promql import metric_names

DEPLOY = ROOT / "deploy"
WORKERS = STACK_WORKERS  # every worker edcs up runs must be deployed too
INPUT = {"ingest": Topic.FILES_RECEIVED, "validate": Topic.RECORDS_PARSED,
         "post": Topic.RECORDS_VALIDATED, "notify": Topic.SUBMISSIONS_STATUS,
         "identity": Topic.SUBMISSIONS_STATUS}


def setting_path(name: str) -> list[str] | None:
    """The Settings field an EDCS_* variable sets (None: no such setting)."""
    if not name.startswith("EDCS_"):
        return None
    model: type[BaseModel] = Settings
    parts = name.removeprefix("EDCS_").lower().split("__")
    for n, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        if n < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            model = annotation
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return None  # a whole section is not one variable
    return parts


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as a process with exactly this environment builds them."""
    import os

    for key in [k for k in os.environ if k.startswith("EDCS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        # ${VAR:?message} and ${VAR:-default} are compose's: a value stands in
        monkeypatch.setenv(key, re.sub(r"\$\{(\w+)(:[?-][^}]*)?\}", "x", str(value)))
    return Settings()


# --- compose ----------------------------------------------------------------------------
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_has_every_server_and_every_edcs_process() -> None:
    assert set(SERVICES) == {"kafka", "postgres", "mailpit", "prometheus", "grafana",
                             "provision", "web", *WORKERS}
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image, f"{name}: pin the image tag"
        assert image == "edcs:latest" or not image.endswith(":latest"), name
    assert SERVICES["provision"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / "Dockerfile").exists()


def test_kafka_runs_in_kraft_mode_and_creates_no_topic() -> None:
    env = SERVICES["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in k for k in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert SERVICES["web"]["environment"]["EDCS_KAFKA__BOOTSTRAP_SERVERS"] == (
        env["KAFKA_ADVERTISED_LISTENERS"].split("//", 1)[1])


@pytest.mark.parametrize("name", ["provision", "web", *WORKERS])
def test_compose_settings_are_edcs_settings(name: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    service = SERVICES[name]
    env = service["environment"]
    unknown = [k for k in env if setting_path(k) is None]
    assert not unknown, f"{name}: no such setting {unknown}"
    settings = settings_from(env, monkeypatch)
    assert settings.database.url.startswith("postgresql+psycopg://")
    assert settings.smtp.host == "mailpit" and settings.bind_host == "0.0.0.0"  # noqa: S104
    command = service["command"]
    module = "edcs.provision" if name == "provision" else f"services.{name}"
    assert command == ["python", "-m", module]
    if name in WORKERS:
        port = settings.metrics_port
        assert port and f"127.0.0.1:{port}/health/live" in " ".join(service["healthcheck"]
                                                                    ["test"])
    if name == "web":
        assert service["ports"] == [f"{settings.web_port}:{settings.web_port}"]


def test_compose_prometheus_scrapes_every_process_on_its_port(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {(job["job_name"], t, s["labels"]["process"])
               for job in config["scrape_configs"] for s in job["static_configs"]
               for t in s["targets"]}
    expected = set()
    for name in [*WORKERS, "web"]:
        settings = settings_from(SERVICES[name]["environment"], monkeypatch)
        port = settings.web_port if name == "web" else settings.metrics_port
        job = "edcs-web" if name == "web" else "edcs-workers"
        expected.add((job, f"{name}:{port}", name))
    assert targets == expected


def test_compose_mounts_exist() -> None:
    for name in ("prometheus", "grafana"):
        for volume in SERVICES[name]["volumes"]:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
    dashboards = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/edcs.yml")
                                .read_text())["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{dashboards}:ro" in SERVICES["grafana"]["volumes"]


def test_compose_prometheus_config_is_valid(promtool: Path) -> None:
    done = subprocess.run([str(promtool), "check", "config",
                           str(DEPLOY / "prometheus" / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kubernetes_prometheus_config_labels_jobs_as_the_rules_expect() -> None:
    # Debian's promtool is built without Kubernetes discovery: checked structurally here.
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-kubernetes.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == {"edcs-workers", "edcs-web"}
    for job in jobs.values():
        targets = {r.get("target_label") for r in job["relabel_configs"]}
        assert {"stage", "process"} <= targets
        assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    assert config["rule_files"] == ["alerts.yml"]


# --- Kubernetes -------------------------------------------------------------------------
def manifests() -> list[dict[str, Any]]:
    return [d for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
            for d in yaml.safe_load_all(path.read_text()) if d]


DOCS = manifests()
BY_KIND: dict[str, dict[str, dict[str, Any]]] = {}
for _doc in DOCS:
    BY_KIND.setdefault(_doc["kind"], {})[_doc["metadata"]["name"]] = _doc


@pytest.mark.parametrize("doc", [d for d in DOCS if d["apiVersion"] != "keda.sh/v1alpha1"],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_kubernetes_manifest_is_valid(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    assert doc["metadata"].get("namespace", "edcs") == "edcs"


def test_settings_of_the_cluster_are_edcs_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**BY_KIND["ConfigMap"]["edcs-settings"]["data"],
           **BY_KIND["Secret"]["edcs-secrets"]["stringData"]}
    assert [k for k in env if setting_path(k) is None] == []
    settings = settings_from(env, monkeypatch)
    assert settings.bind_host == "0.0.0.0" and settings.metrics_port == 9100  # noqa: S104


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


@pytest.mark.parametrize("stage", WORKERS)
def test_worker_deployment_probes_health_on_the_metrics_port(stage: str) -> None:
    c = container(BY_KIND["Deployment"][f"edcs-{stage}"])
    assert c["command"] == ["python", "-m", f"services.{stage}"]
    port = int(BY_KIND["ConfigMap"]["edcs-settings"]["data"]["EDCS_METRICS_PORT"])
    assert c["ports"] == [{"name": "metrics", "containerPort": port}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
    assert {e.get("configMapRef", e.get("secretRef", {})).get("name")
            for e in c["envFrom"]} == {"edcs-settings", "edcs-secrets"}
    assert f"edcs-{stage}" in BY_KIND["Service"]


def test_web_deployment_serves_on_its_port() -> None:
    c = container(BY_KIND["Deployment"]["edcs-web"])
    port = int(BY_KIND["ConfigMap"]["edcs-settings"]["data"]["EDCS_WEB_PORT"])
    assert c["ports"] == [{"name": "http", "containerPort": port}]
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("stage", WORKERS)
def test_workers_scale_on_their_lag_up_to_their_partitions(stage: str) -> None:
    scaled = BY_KIND["ScaledObject"][f"edcs-{stage}"]
    body = scaled["spec"]
    assert body["scaleTargetRef"]["name"] in BY_KIND["Deployment"]
    assert 1 <= body["minReplicaCount"] <= body["maxReplicaCount"]
    assert body["maxReplicaCount"] <= spec(INPUT[stage]).partitions
    (trigger,) = body["triggers"]
    assert trigger["type"] == "prometheus"
    query = trigger["metadata"]["query"]
    assert metric_names(query) == {"edcs_stage_consumer_lag_messages"}
    assert metric_names(query) <= set(sample_names())
    assert f'stage="{stage}"' in query
    assert float(trigger["metadata"]["threshold"]) > 0
