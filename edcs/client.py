"""HTTP client of the web API (``/api/v1``) for the ``edcs`` commands.

Where the API is: ``--api``, ``EDCS_API_URL``, or the stack running in the data dir
(``stack.json``). Who asks: ``--token``, ``EDCS_TOKEN``, or the operator token ``edcs up`` wrote
into the data dir (``operator-token``), so on the machine of the embedded stack every command
works with no flag or credential (design.md §8).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
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


def token_for(explicit: str | None, data_dir: Path) -> str | None:
    """The API token: --token, then EDCS_TOKEN, then the data dir's operator token."""
    if explicit:
        return explicit.strip()
    if os.environ.get("EDCS_TOKEN"):
        return os.environ["EDCS_TOKEN"].strip()
    found = data_dir / "operator-token"
    try:
        return found.read_text().strip() or None
    except OSError:
        return None


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
    """A thin client of the versioned API."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base, timeout=600, headers=headers)

    def _unreachable(self, exc: httpx.TransportError) -> ApiError:
        return ApiError(f"cannot reach edcs at {self.base}: {exc}; is `edcs up` running?")

    @staticmethod
    def _problem(path: str, response: httpx.Response) -> ApiError:
        try:
            found = response.json()
            detail = str(found.get("detail") or "")
            more = [str(e.get("message", "")) for e in found.get("errors") or []
                    if isinstance(e, dict) and e.get("message") and e.get("message") != detail]
            detail = "; ".join([detail, *more[:5]]) if more else detail
        except (ValueError, AttributeError):
            detail = response.text[:300]
        hint = (" (pass --token, or set EDCS_TOKEN, or run on the machine of `edcs up`, "
                "which keeps the operator's token in the data dir)"
                if response.status_code == 401 else "")
        return ApiError(f"{path}: HTTP {response.status_code} {detail}{hint}")

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, str | int] | None = None) -> Any:
        try:
            response = self.http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code not in (200, 201, 202):
            raise self._problem(path, response)
        return response.json()

    def _get(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def _all(self, path: str, params: dict[str, str | int] | None = None) -> list[Any]:
        """Every item of a paginated list, page after page."""
        items: list[Any] = []
        params = dict(params or {})
        while True:
            page = self._get(path, params)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    def submit(self, path: Path, collection: str, institution: str,
               email: str | None) -> dict[str, Any]:
        """Upload a file; returns the new job."""
        data = {"collection": collection, "institution": institution}
        if email:
            data["email"] = email
        try:
            with path.open("rb") as fh:
                response = self.http.post("/api/v1/submissions", data=data,
                                          files={"file": (path.name, fh)})
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code != 201:
            raise self._problem("submit", response)
        return dict(response.json())

    def job(self, job_id: int) -> dict[str, Any]:
        """One job."""
        return dict(self._get(f"/api/v1/submissions/{job_id}"))

    def jobs(self, institution: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first."""
        params: dict[str, str | int] = {"limit": limit}
        if institution:
            params["institution"] = institution
        return list(self._get("/api/v1/submissions", params)["items"])

    def issues(self, job_id: int) -> list[dict[str, Any]]:
        """Every issue of a job."""
        return self._all(f"/api/v1/submissions/{job_id}/issues")

    def export(self, collection: str, institution: str, fmt: str,
               changed_since: str | None) -> Iterator[bytes]:
        """The posted records, streamed: the bytes the web app sends (UTF-8), as they come."""
        params = {"institution": institution, "format": fmt}
        if changed_since:
            params["changed_since"] = changed_since
        try:
            with self.http.stream("GET", f"/api/v1/records/{collection}", params=params) as r:
                if r.status_code != 200:
                    r.read()
                    raise self._problem("export", r)
                yield from r.iter_bytes()
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def collection(self, code: str) -> dict[str, Any]:
        """A collection and its fields."""
        return dict(self._get(f"/api/v1/collections/{code}"))

    def history(self, collection: str, institution: str, key: str | None,
                submission: int | None) -> list[dict[str, Any]]:
        """Every change to posted records (all pages: no silent cap)."""
        params: dict[str, str | int] = {"institution": institution, "limit": 5000}
        if key:
            params["key"] = key
        if submission is not None:
            params["submission"] = submission
        return self._all(f"/api/v1/history/{collection}", params)

    def replay(self, job_id: int, force: bool = False) -> dict[str, Any]:
        """Send a submission through the pipeline again from its stored file."""
        return dict(self._send("POST", f"/api/v1/submissions/{job_id}/replay",
                               params={"force": "true"} if force else None))

    def replay_topic(self, topic: str, since: str) -> dict[str, Any]:
        """Re-read a topic from a time (ISO 8601, UTC)."""
        return dict(self._send("POST", "/api/v1/replays", {"topic": topic, "since": since}))

    def fail(self, job_id: int, reason: str) -> dict[str, Any]:
        """Give up on a submission that is not final."""
        return dict(self._send("POST", f"/api/v1/submissions/{job_id}/fail",
                               {"reason": reason}))

    def dead_letters(self) -> list[dict[str, Any]]:
        """The newest dead letters."""
        return list(self._get("/api/v1/dead-letters"))

    def dead_letter(self, letter_id: int, value: bool) -> dict[str, Any]:
        """One dead letter (with the event's value when asked)."""
        return dict(self._get(f"/api/v1/dead-letters/{letter_id}",
                              {"value": "true"} if value else None))

    def replay_letter(self, letter_id: int, force: bool = False) -> dict[str, Any]:
        """Publish a dead letter again (or replay the submission it failed)."""
        return dict(self._send("POST", f"/api/v1/dead-letters/{letter_id}/replay",
                               params={"force": "true"} if force else None))

    def suggestions(self, institution: str, page: int, status: str) -> dict[str, Any]:
        """A page of an institution's records waiting in Review Suggestions."""
        return dict(self._get("/api/v1/suggestions", {"institution": institution, "page": page,
                                                   "status": status}))

    def choose(self, suggestion_id: int, choice: str, ssid: str | None) -> dict[str, Any]:
        """A person's choice for a suggested record (posts it unless excluded)."""
        return dict(self._send("POST", f"/api/v1/suggestions/{suggestion_id}",
                               {"choice": choice, "ssid": ssid}))

    def duplicates(self, institution: str, page: int) -> dict[str, Any]:
        """Likely duplicate SSIDs waiting for the institution's vote."""
        return dict(self._get("/api/v1/duplicates", {"institution": institution, "page": page}))

    def vote(self, low: str, high: str, institution: str, same: bool) -> dict[str, Any]:
        """The institution's vote on a likely duplicate pair."""
        return dict(self._send("POST", f"/api/v1/duplicates/{low}/{high}/vote",
                               {"institution": institution, "same_student": same}))

    def scan_duplicates(self, after: str) -> dict[str, Any]:
        """One step of the full duplicates scan."""
        return dict(self._send("POST", "/api/v1/duplicates/scan", params={"after": after}))

    def identity_history(self, ssid: str) -> list[dict[str, Any]]:
        """Every change to an SSID's identity, merges included."""
        return list(self._get(f"/api/v1/identities/{ssid}/history"))

    def held(self, job_id: int) -> list[dict[str, Any]]:
        """The job's records kept to be fixed (valid-records-post)."""
        return self._all(f"/api/v1/submissions/{job_id}/held")

    def fix(self, job_id: int, row: int, fields: dict[str, str],
            email: str | None = None) -> dict[str, Any]:
        """Correct a held record; returns the job that carries the correction."""
        return dict(self._send("POST", f"/api/v1/submissions/{job_id}/held/{row}",
                               {"fields": fields, "email": email}))

    def housekeeping(self, job_id: int) -> int:
        """Delete the job's held records; returns how many went."""
        return int(self._send("DELETE", f"/api/v1/submissions/{job_id}/held")["deleted"])

    def users(self) -> list[dict[str, Any]]:
        """The users the caller manages."""
        return list(self._get("/api/v1/users"))

    def add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a user (the answer holds its generated password)."""
        return dict(self._send("POST", "/api/v1/users", body))

    def change_user(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Grant, revoke, (de)activate."""
        return dict(self._send("PATCH", f"/api/v1/users/{user_id}", body))

    def tokens(self) -> list[dict[str, Any]]:
        """The API tokens the caller manages."""
        return list(self._get("/api/v1/tokens"))

    def issue_token(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new token (the answer holds its secret, once)."""
        return dict(self._send("POST", "/api/v1/tokens", body))

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        """Revoke a token."""
        return dict(self._send("DELETE", f"/api/v1/tokens/{token_id}"))

    def load_institutions(self, path: Path) -> dict[str, Any]:
        """Load a reference file of institutions."""
        return self._upload("/api/v1/institutions", "institutions", path)

    def load_reference(self, path: Path) -> dict[str, Any]:
        """Load a reference file (the CDS directory, the institutions or the collection
        windows); a refused file raises ApiError listing every problem the answer gives."""
        return self._upload("/api/v1/reference", "reference", path, every_problem=True)

    def _upload(self, url: str, name: str, path: Path, every_problem: bool = False
                ) -> dict[str, Any]:
        try:
            with path.open("rb") as fh:
                response = self.http.post(url, files={"file": (path.name, fh)})
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code == 422 and every_problem:
            found = response.json()
            lines = [str(e.get("message")) for e in found.get("errors") or []]
            raise ApiError("\n".join([f"{path}: {found.get('detail')}", *lines]))
        if response.status_code != 200:
            raise self._problem(name, response)
        return dict(response.json())

    def poll(self, job_id: int, timeout: float,
             seen: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Poll until the job reaches a final status, telling ``seen`` of every state."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if seen is not None:
                seen(job)
            if job["final"]:
                return job
            if time.monotonic() > deadline:
                raise ApiError(f"job {job_id} still {job['status']} after {timeout:.0f} s")
            time.sleep(0.5)

    def wait(self, job_id: int, timeout: float) -> dict[str, Any]:
        """Poll until the job reaches a final status."""
        return self.poll(job_id, timeout)
