"""HTTP client of the web API for ``edcs submit``, ``edcs jobs`` and ``edcs job``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """The API refused a request or could not be reached; the message says why."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def api_url(explicit: str | None, data_dir: Path) -> str:
    """Where the web API is: --api, then EDCS_API_URL, then the stack running in the data dir.

    Never a guess: with none of those, or a stack.json whose ``edcs up`` is gone, it raises
    ApiError saying how to start the stack or point at one.
    """
    if explicit:
        return explicit.rstrip("/")
    if os.environ.get("EDCS_API_URL"):
        return os.environ["EDCS_API_URL"].rstrip("/")
    stack = data_dir / "stack.json"
    if not stack.exists():
        raise ApiError(f"no edcs stack is running in {data_dir} (no {stack}); start one with "
                       "`edcs up`, or say where the web API is with --api URL (or "
                       "EDCS_API_URL), or --data-dir DIR for a stack started with --data-dir")
    found = json.loads(stack.read_text())
    pid = found.get("pid")
    if isinstance(pid, int) and not _alive(pid):
        raise ApiError(f"the edcs stack of {data_dir} is not running any more (its process "
                       f"{pid} is gone); start it again with `edcs up`")
    return str(found["api"]).rstrip("/")


class Client:
    """A thin client of the submissions API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=600)

    def _get(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def submit(self, path: Path, collection: str, institution: str,
               email: str | None) -> dict[str, Any]:
        """Upload a file; returns the new job."""
        data = {"collection": collection, "institution": institution}
        if email:
            data["email"] = email
        try:
            with path.open("rb") as fh:
                response = self.http.post("/api/submissions", data=data,
                                          files={"file": (path.name, fh)})
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach edcs at {self.base}: {exc}; is `edcs up` running?"
                           ) from exc
        body = response.json()
        if response.status_code != 201:
            raise ApiError("; ".join(e["message"] for e in body.get("errors", [])) or
                           f"HTTP {response.status_code}")
        return dict(body)

    def job(self, job_id: int) -> dict[str, Any]:
        """One job."""
        return dict(self._get(f"/api/submissions/{job_id}"))

    def jobs(self, institution: str | None = None) -> list[dict[str, Any]]:
        """Recent jobs, newest first."""
        return list(self._get("/api/submissions",
                              {"institution": institution} if institution else None))

    def issues(self, job_id: int) -> list[dict[str, Any]]:
        """Every issue of a job."""
        return list(self._get(f"/api/submissions/{job_id}/issues"))

    def export(self, collection: str, institution: str, fmt: str,
               changed_since: str | None) -> Iterator[str]:
        """The posted records, streamed line by line."""
        params = {"institution": institution, "format": fmt}
        if changed_since:
            params["changed_since"] = changed_since
        try:
            with self.http.stream("GET", f"/api/records/{collection}", params=params) as r:
                if r.status_code != 200:
                    r.read()
                    raise ApiError(f"export: HTTP {r.status_code} {r.text[:300]}")
                yield from r.iter_text()
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach edcs at {self.base}: {exc}; is `edcs up` running?"
                           ) from exc

    def history(self, collection: str, institution: str, key: str | None,
                submission: int | None) -> list[dict[str, Any]]:
        """Changes to posted records."""
        params: dict[str, str | int] = {"institution": institution}
        if key:
            params["key"] = key
        if submission is not None:
            params["submission"] = submission
        return list(self._get(f"/api/history/{collection}", params))

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, str | int] | None = None) -> Any:
        try:
            response = self.http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach edcs at {self.base}: {exc}; is `edcs up` running?"
                           ) from exc
        if response.status_code not in (200, 201):
            try:
                found = response.json()
                detail = found.get("detail") or "; ".join(
                    e["message"] for e in found.get("errors", []))
            except ValueError:
                detail = response.text[:300]
            raise ApiError(f"{path}: HTTP {response.status_code} {detail}")
        return response.json()

    def replay(self, job_id: int, force: bool = False) -> dict[str, Any]:
        """Send a submission through the pipeline again from its stored file."""
        return dict(self._send("POST", f"/api/submissions/{job_id}/replay",
                               params={"force": "true"} if force else None))

    def replay_topic(self, topic: str, since: str) -> dict[str, Any]:
        """Re-read a topic from a time (ISO 8601, UTC)."""
        return dict(self._send("POST", "/api/replays", {"topic": topic, "since": since}))

    def fail(self, job_id: int, reason: str) -> dict[str, Any]:
        """Give up on a submission that is not final."""
        return dict(self._send("POST", f"/api/submissions/{job_id}/fail", {"reason": reason}))

    def dead_letters(self) -> list[dict[str, Any]]:
        """The newest dead letters."""
        return list(self._get("/api/dead-letters"))

    def dead_letter(self, letter_id: int, value: bool) -> dict[str, Any]:
        """One dead letter (with the event's value when asked)."""
        return dict(self._get(f"/api/dead-letters/{letter_id}",
                              {"value": "true"} if value else None))

    def replay_letter(self, letter_id: int, force: bool = False) -> dict[str, Any]:
        """Publish a dead letter again (or replay the submission it failed)."""
        return dict(self._send("POST", f"/api/dead-letters/{letter_id}/replay",
                               params={"force": "true"} if force else None))

    def suggestions(self, institution: str, page: int, status: str) -> dict[str, Any]:
        """A page of an institution's records waiting in Review Suggestions."""
        return dict(self._get("/api/suggestions", {"institution": institution, "page": page,
                                                   "status": status}))

    def choose(self, suggestion_id: int, choice: str, ssid: str | None) -> dict[str, Any]:
        """A person's choice for a suggested record (posts it unless excluded)."""
        return dict(self._send("POST", f"/api/suggestions/{suggestion_id}",
                               {"choice": choice, "ssid": ssid}))

    def duplicates(self, institution: str, page: int) -> dict[str, Any]:
        """Likely duplicate SSIDs waiting for the institution's vote."""
        return dict(self._get("/api/duplicates", {"institution": institution, "page": page}))

    def vote(self, low: str, high: str, institution: str, same: bool) -> dict[str, Any]:
        """The institution's vote on a likely duplicate pair."""
        return dict(self._send("POST", f"/api/duplicates/{low}/{high}/vote",
                               {"institution": institution, "same_student": same}))

    def scan_duplicates(self, after: str) -> dict[str, Any]:
        """One step of the full duplicates scan."""
        return dict(self._send("POST", "/api/duplicates/scan", params={"after": after}))

    def identity_history(self, ssid: str) -> list[dict[str, Any]]:
        """Every change to an SSID's identity, merges included."""
        return list(self._get(f"/api/identities/{ssid}/history"))

    def held(self, job_id: int) -> list[dict[str, Any]]:
        """The job's records kept to be fixed (valid-records-post)."""
        return list(self._get(f"/api/submissions/{job_id}/held"))

    def fix(self, job_id: int, row: int, fields: dict[str, str],
            email: str | None = None) -> dict[str, Any]:
        """Correct a held record; returns the job that carries the correction."""
        return dict(self._send("POST", f"/api/submissions/{job_id}/held/{row}",
                               {"fields": fields, "email": email}))

    def housekeeping(self, job_id: int) -> int:
        """Delete the job's held records; returns how many went."""
        return int(self._send("DELETE", f"/api/submissions/{job_id}/held")["deleted"])

    def wait(self, job_id: int, timeout: float) -> dict[str, Any]:
        """Poll until the job reaches a final status."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["final"]:
                return job
            if time.monotonic() > deadline:
                raise ApiError(f"job {job_id} still {job['status']} after {timeout:.0f} s")
            time.sleep(0.5)
