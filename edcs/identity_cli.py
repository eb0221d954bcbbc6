"""``edcs suggestions`` and ``edcs duplicates`` (Oregon Review Suggestions, Resolve Duplicates)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from edcs.options import API, DATA_DIR, FORMAT, TOKEN, api_errors, connect


def _mark(row: dict[str, Any]) -> str:
    """= agrees, ? blank on either side (a blank never agrees), ≠ differs: as the page says."""
    return "=" if row["agrees"] else "?" if not (row["submitted"] and row["candidate"]) else "≠"


def _fields(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['field']} {_mark(r)}" for r in rows)


@click.group(invoke_without_command=True)
@click.option("--institution", default="1964733", show_default=True)
@click.option("--page", default=1, show_default=True)
@click.option("--status", type=click.Choice(["waiting", "excluded", "choosing", "matched",
                                             "new"]), default="waiting", show_default=True)
@FORMAT
@API
@TOKEN
@DATA_DIR
@click.pass_context
def suggestions(ctx: click.Context, institution: str, page: int, status: str, fmt: str,
                api: str | None, token: str | None, data_dir: Path) -> None:
    """Records whose student is uncertain, each with its candidates (25 per page)."""
    if ctx.invoked_subcommand is not None:
        return
    with api_errors():
        found = connect(api, data_dir, token).suggestions(institution, page, status)
    if fmt == "json":
        click.echo(json.dumps(found))
        return
    click.echo(f"{found['total']} records {status} for institution {institution} "
               f"(page {found['page']} of {found['pages']})")
    for item in found["items"]:
        record = item["record"]
        click.echo(f"  suggestion {item['id']}: submission {item['submission']} row "
                   f"{item['row']}: {record.get('legal_first', '')} "
                   f"{record.get('legal_last', '')}, born {record.get('dob', '')}")
        for c in item["candidates"]:
            click.echo(f"      candidate {c['ssid']}: {_fields(c['fields'])}")
    if found["items"]:
        click.echo("choose with: edcs suggestions choose ID (--ssid SSID | --new | --exclude)")


@suggestions.command("choose")
@click.argument("suggestion_id", type=int)
@click.option("--ssid", default=None, help="The student's SSID (one of the candidates).")
@click.option("--new", "new", is_flag=True, help="A student the registry does not have.")
@click.option("--exclude", is_flag=True, help="Not now: keep it out of the waiting list.")
@click.option("--wait", is_flag=True, help="Wait until the record is posted.")
@API
@TOKEN
@DATA_DIR
def choose(suggestion_id: int, ssid: str | None, new: bool, exclude: bool, wait: bool,
           api: str | None, token: str | None, data_dir: Path) -> None:
    """Decide a suggested record: its SSID, a new one, or exclude it for now."""
    if sum((ssid is not None, new, exclude)) != 1:
        raise click.UsageError("give exactly one of --ssid SSID, --new, --exclude")
    choice = "match" if ssid else "new" if new else "exclude"
    with api_errors():
        client = connect(api, data_dir, token)
        done = client.choose(suggestion_id, choice, ssid)
        if choice == "exclude":
            click.echo(f"suggestion {suggestion_id} excluded for now")
            return
        job = client.wait(int(done["id"]), 600) if wait else done
    click.echo(f"suggestion {suggestion_id}: posted as job {job['id']} ({job['status']})")
    sys.exit(0 if not wait or job["status"] == "posted" else 1)


@click.group(invoke_without_command=True)
@click.option("--institution", default="1964733", show_default=True)
@click.option("--page", default=1, show_default=True)
@FORMAT
@API
@TOKEN
@DATA_DIR
@click.pass_context
def duplicates(ctx: click.Context, institution: str, page: int, fmt: str, api: str | None,
               token: str | None, data_dir: Path) -> None:
    """Likely duplicate SSIDs of the institution's students, waiting for its vote."""
    if ctx.invoked_subcommand is not None:
        return
    with api_errors():
        found = connect(api, data_dir, token).duplicates(institution, page)
    if fmt == "json":
        click.echo(json.dumps(found))
        return
    if not found["items"]:
        click.echo(f"no likely duplicates wait for institution {institution}")
    for pair in found["items"]:
        click.echo(f"  {pair['low']} / {pair['high']} (level {pair['level']}): "
                   f"{_fields(pair['fields'])}")
    if found["items"]:
        click.echo("vote with: edcs duplicates vote LOW HIGH --institution ID (--yes | --no)")


@duplicates.command("scan")
@API
@TOKEN
@DATA_DIR
def scan(api: str | None, token: str | None, data_dir: Path) -> None:
    """Compare every current identity with the registry and record the likely duplicates (the
    same pairs the identity stage finds as students are posted; pairs decided stay decided)."""
    scanned = found = 0
    after: str | None = ""
    with api_errors():
        client = connect(api, data_dir, token)
        while after is not None:
            step = client.scan_duplicates(after)
            scanned, found, after = scanned + step["scanned"], found + step["found"], step["next"]
            click.echo(f"\r{scanned} identities compared, {found} new likely duplicates",
                       nl=False)
    click.echo("")


@duplicates.command("vote")
@click.argument("low")
@click.argument("high")
@click.option("--institution", required=True)
@click.option("--yes/--no", "same", required=True, help="Are they one student?")
@API
@TOKEN
@DATA_DIR
def vote(low: str, high: str, institution: str, same: bool, api: str | None,
         token: str | None, data_dir: Path) -> None:
    """Vote on a pair (two Y votes merge them: the lower SSID survives)."""
    with api_errors():
        done = connect(api, data_dir, token).vote(low, high, institution, same)
    click.echo(f"{done['low']} / {done['high']}: {done['status']}")
