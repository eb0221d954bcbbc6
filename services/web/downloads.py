"""Production Download: an export built in the background, then a link by email (Oregon seed:
"an email will be sent containing a link and instructions for retrieving your file").

A request is a row of ``downloads``; the web app builds the file in a thread, under
``DATA_DIR/downloads/``, counts its records, and owes an email (written whole into ``emails``,
sent by notify) with a link to ``/downloads/{id}``. The link works only for a signed-in user (or
a token) acting for the download's institution. Files are deleted after
``web.downloads_keep_days``; a download left unfinished by a restart is built at the next start.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.records import changed, count_records, export_lines, institution_records
from services.web.search import Search, criteria
from shared.accounts import Principal
from shared.catalog.models import Layout
from shared.db.accounts import Download
from shared.db.models import Email, Institution, utcnow
from shared.errors import reason_of

log = logging.getLogger(__name__)


def folder(web: WebContext) -> Path:
    """Where built downloads are kept."""
    return web.settings.data_dir / "downloads"


def file_of(web: WebContext, download: Download) -> Path:
    """The built file of a download."""
    return folder(web) / f"{download.secret}.{download.fmt}"


def request(session: Session, principal: Principal, layout: Layout, institution: str,
            fmt: str, search: Search | None, since: dt.date | None, until: dt.date | None
            ) -> Download:
    """A new download, to be built by ``build``."""
    wanted = {"institution": institution, "search": asdict(search) if search else None,
              "since": since.isoformat() if since else None,
              "until": until.isoformat() if until else None}
    download = Download(secret=secrets.token_hex(16),
                        user_id=principal.id if principal.kind == "user" else None,
                        institution_id=institution, kind="records",
                        collection=layout.record_type, fmt=fmt, request=json.dumps(wanted))
    session.add(download)
    session.flush()
    return download


def _where(layout: Layout, wanted: dict[str, object]) -> ColumnElement[bool]:
    """The records of the download's search (all of the institution's without one)."""
    search = wanted.get("search")
    if isinstance(search, dict):
        return criteria(layout, Search(**search), dt.date.today())
    return true()


def build(web: WebContext, download_id: int) -> None:
    """Write the download's file, then owe the email with its link."""
    with web.sessions() as session:
        download = session.get(Download, download_id)
        if download is None or download.status != "pending":
            return
        collection = web.catalog.collection(download.collection)
        layout = web.catalog.layouts[collection.layout if collection else download.collection]
        wanted = json.loads(download.request)
        since = wanted.get("since")
        until = wanted.get("until")
        target = file_of(web, download)
        target.parent.mkdir(parents=True, exist_ok=True)
        start = dt.datetime.fromisoformat(since) if since else None
        end = dt.datetime.fromisoformat(until) + dt.timedelta(days=1) if until else None
        where = _where(layout, wanted)
        records = 0
        try:
            records = count_records(session, layout, and_(
                institution_records(layout, download.institution_id), where,
                changed(start, end)))
            with target.open("w", encoding="utf-8", newline="") as out:
                for chunk in export_lines(session, layout, download.institution_id,
                                          download.fmt, where, start, end):
                    out.write(chunk)
            error = None
        except Exception as exc:  # noqa: BLE001 - the user is told; the reason has no values
            error = reason_of(exc)
            log.warning("download %s failed: %s", download_id, error)
    _finish(web, download_id, records, error)


def _finish(web: WebContext, download_id: int, records: int, error: str | None) -> None:
    with web.sessions.begin() as session:
        download = session.get(Download, download_id)
        if download is None:
            return
        download.status = "failed" if error else "ready"
        download.records, download.error = records, error
        download.finished_at = utcnow()
        download.filename = (f"{download.collection}-{download.institution_id}-"
                             f"{download.id}.{download.fmt}")
        _owe_email(session, web, download)


def _owe_email(session: Session, web: WebContext, download: Download) -> None:
    from shared.db.accounts import User

    user = session.get(User, download.user_id) if download.user_id is not None else None
    institution = session.get(Institution, download.institution_id)
    recipient = user.email if user else institution.contact_email if institution else None
    if not recipient:
        return
    link = f"{web.settings.base_url.rstrip('/')}/downloads/{download.id}"
    keep = web.settings.web.downloads_keep_days
    if download.status == "ready":
        subject = f"edcs: your {download.collection} download {download.id} is ready"
        body = (f"The Production Download you asked for ({download.collection}, institution "
                f"{download.institution_id}, {download.fmt}) is ready: {download.records} "
                f"records.\n\nSign in and download it here: {link}\n\nIt is kept for {keep} "
                "days.\n")
    else:
        subject = f"edcs: your {download.collection} download {download.id} failed"
        body = (f"The Production Download you asked for ({download.collection}, institution "
                f"{download.institution_id}) could not be built: {download.error}.\n\n"
                f"Details: {link}\n")
    session.add(Email(submission_id=None, institution_id=download.institution_id,
                      milestone="download", round=download.id, recipient=recipient,
                      subject=subject, body=body, status="pending", attempts=0,
                      next_attempt_at=utcnow()))


def pending(web: WebContext) -> list[int]:
    """Downloads not built yet (a restart interrupted them)."""
    with web.sessions() as session:
        return list(session.scalars(select(Download.id).where(Download.status == "pending")))


def clean(web: WebContext) -> int:
    """Delete downloads older than the keep period; returns how many."""
    cutoff = utcnow() - dt.timedelta(days=web.settings.web.downloads_keep_days)
    gone = 0
    with web.sessions.begin() as session:
        for download in session.scalars(select(Download).where(Download.created_at < cutoff)):
            file_of(web, download).unlink(missing_ok=True)
            session.delete(download)
            gone += 1
    return gone
