"""The state operator's window page: ``GET /window`` (HTML, refreshed every few seconds) and
``GET /api/window`` (the same as JSON).

Files per collection and district (received, processing, posted, rejected, failed, not yet
submitted), the oldest file not final and each stage's backlog come from the store; when
Prometheus runs (``edcs up --monitoring``, ``EDCS_MONITORING__PROMETHEUS_URL``) the page adds
each stage's consumer lag and throughput and the alerts firing, from Prometheus' HTTP API.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from services.web.context import WebContext
from services.web.overview import COLUMNS, Overview, overview
from services.web.pages import render
from services.web.security import api_principal, page_principal, require
from shared.accounts import Principal
from shared.db.models import utcnow

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5
QUERIES = {  # what the page asks Prometheus, by stage
    "lag": "sum by (stage) (edcs_stage_consumer_lag_messages)",
    "records_per_second": "sum by (stage) (rate(edcs_stage_records_in_total[1m]))",
    "messages_per_second": "sum by (stage) (rate(edcs_stage_messages_in_total[1m]))",
}


@dataclass
class Monitoring:
    """What Prometheus says, when it runs."""

    url: str | None
    reachable: bool = False
    by_stage: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[dict[str, str]] = field(default_factory=list)
    down: list[str] = field(default_factory=list)  # scrape targets not answering


async def ask_prometheus(url: str | None, timeout: float = 2.0) -> Monitoring:
    """Lag and throughput per stage, firing alerts and targets down; unreachable is no error
    (the page then says so)."""
    found = Monitoring(url)
    if not url:
        return found
    try:
        async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
            for name, query in QUERIES.items():
                for item in await _query(client, query):
                    stage = item["metric"].get("stage", "?")
                    found.by_stage.setdefault(stage, {})[name] = float(item["value"][1])
            for item in await _query(client, "up == 0"):
                labels = item["metric"]
                found.down.append(labels.get("process") or labels.get("instance", "?"))
            response = await client.get("/api/v1/alerts")
            response.raise_for_status()
            found.alerts = [_alert(a) for a in response.json()["data"]["alerts"]
                            if a.get("state") == "firing"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("Prometheus at %s did not answer: %s", url, type(exc).__name__)
        return Monitoring(url)
    found.reachable = True
    return found


async def _query(client: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/query", params={"query": query})
    response.raise_for_status()
    return list(response.json()["data"]["result"])


def _alert(alert: dict[str, Any]) -> dict[str, str]:
    labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
    return {"name": labels.get("alertname", "?"), "severity": labels.get("severity", ""),
            "summary": annotations.get("summary", ""), "since": alert.get("activeAt", "")}


def window_router(web: WebContext) -> APIRouter:
    """The window page and its JSON."""
    router = APIRouter()

    def read() -> Overview:
        with web.sessions() as session:
            return overview(session, web.catalog, utcnow())

    async def gather() -> tuple[Overview, Monitoring]:
        data = await run_in_threadpool(read)
        return data, await ask_prometheus(web.settings.monitoring.prometheus_url)

    @router.get("/window", response_class=HTMLResponse, include_in_schema=False)
    async def window_page(request: Request,
                          principal: Annotated[Principal, Depends(page_principal)]
                          ) -> Response:
        require(principal, "operate")  # the whole state's window: the state operator's
        data, monitoring = await gather()
        return render(request, "window.html", o=data, m=monitoring, columns=COLUMNS,
                      refresh=REFRESH_SECONDS)

    @router.get("/api/v1/window", tags=["operations"])
    async def api_window(principal: Annotated[Principal, Depends(api_principal)]
                         ) -> dict[str, Any]:
        require(principal, "operate")
        data, monitoring = await gather()
        return {
            "districts": [{"id": i, "name": n} for i, n in data.districts],
            "collections": [{"code": r.code, "title": r.title, "totals": r.totals,
                             "not_submitted": r.not_submitted,
                             "districts": {i: {**c.counts, "submitted": c.submitted}
                                           for i, c in r.cells.items()}}
                            for r in data.rows],
            "oldest_open": asdict(data.oldest_open) if data.oldest_open else None,
            "backlog": data.backlog, "monitoring": asdict(monitoring)}

    return router
