"""The operator's commands: ``edcs replay`` and ``edcs dlq`` (through the web API)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import click

from edcs.options import API, DATA_DIR, FORMAT, TOKEN, api_errors, connect

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def since_utc(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """A --since value as a UTC time: ``30m``, ``2h``, ``1d`` ago, or an ISO 8601 time (with
    its offset, or local time when it has none)."""
    now = now or dt.datetime.now(dt.UTC)
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.groups()
        return now - dt.timedelta(**{_UNITS[unit]: int(amount)})
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r}: use an ISO time such as 2026-12-01T09:30 "
                                 "(local time unless it has an offset) or a duration ago "
                                 "such as 30m, 2h, 1d", param_hint="--since") from None
    if when.tzinfo is None:
        when = when.astimezone()  # the operator's local time
    return when.astimezone(dt.UTC)


@click.command()
@click.option("--submission", "submission_id", type=int, default=None,
              help="Send one submission through again from its stored file.")
@click.option("--topic", default=None, help="Re-read a topic (e.g. records.validated) ...")
@click.option("--since", default=None, help="... from this time (ISO, or 30m / 2h / 1d ago).")
@click.option("--force", is_flag=True, help="With --submission: replay a failed or rejected file "
                                            "even though a later file has posted since.")
@click.option("--wait", is_flag=True, help="With --submission: wait for its final status.")
@click.option("--timeout", default=3600.0, show_default=True)
@FORMAT
@API
@TOKEN
@DATA_DIR
def replay(submission_id: int | None, topic: str | None, since: str | None, force: bool,
           wait: bool, timeout: float, fmt: str, api: str | None,
           token: str | None, data_dir: Path) -> None:
    """Reprocess a submission from its stored bytes, or a topic from a time. Nothing is ever
    posted twice; the job's history shows the replay."""
    if (submission_id is None) == (topic is None) or (topic is not None and since is None):
        raise click.UsageError("give either --submission ID, or --topic NAME --since TIME")
    with api_errors():
        client = connect(api, data_dir, token)
        if submission_id is not None:
            client.replay(submission_id, force)
            found = client.wait(submission_id, timeout) if wait else client.job(submission_id)
            if fmt == "json":
                click.echo(json.dumps(found))
            else:
                click.echo(f"submission {submission_id} replayed: now {found['status']}")
                if found.get("message"):
                    click.echo(f"  {found['message']}")
            sys.exit(0 if not wait or found["status"] == "posted" else 1)
        since_time = since_utc(since or "")
        done = client.replay_topic(str(topic), since_time.replace(tzinfo=None).isoformat())
    if fmt == "json":
        click.echo(json.dumps(done))
        return
    click.echo(f"{done['topic']} since {done['since']}: {done['messages']} messages published "
               f"again, of {len(done['submissions'])} submissions")


@click.group()
def dlq() -> None:
    """Dead letters: events a stage could not process (each failed its submission)."""


@dlq.command("list")
@FORMAT
@API
@TOKEN
@DATA_DIR
def dlq_list(fmt: str, api: str | None, token: str | None, data_dir: Path) -> None:
    """The newest dead letters, with why (never the values)."""
    with api_errors():
        letters = connect(api, data_dir, token).dead_letters()
    if fmt == "json":
        click.echo(json.dumps(letters))
        return
    if not letters:
        click.echo("no dead letters")
    for x in letters:
        replayed = f"  replayed {x['replayed_at']}" if x["replayed_at"] else ""
        click.echo(f"{x['id']:>5}  {x['at']}  {x['stage']:<8} {x['topic']:<18} submission "
                   f"{x['submission'] if x['submission'] is not None else '-'}: {x['reason']}"
                   f"{replayed}")


@dlq.command("show")
@click.argument("letter_id", type=int)
@click.option("--value", is_flag=True, help="Also print the event as received (it may hold "
                                            "student data).")
@FORMAT
@API
@TOKEN
@DATA_DIR
def dlq_show(letter_id: int, value: bool, fmt: str, api: str | None,
             token: str | None, data_dir: Path) -> None:
    """One dead letter: where it came from and why."""
    with api_errors():
        letter = connect(api, data_dir, token).dead_letter(letter_id, value)
    if fmt == "json":
        click.echo(json.dumps(letter))
        return
    for name in ("id", "at", "stage", "topic", "partition", "offset", "submission", "reason",
                 "bytes", "replayed_at"):
        click.echo(f"{name:>11}: {letter[name]}")
    if value:
        click.echo(f"{'key':>11}: {letter['key']}")
        click.echo(f"{'value':>11}: {letter['value']}")


@dlq.command("replay")
@click.argument("letter_id", type=int)
@click.option("--force", is_flag=True, help="Replay its submission even though a later file "
                                            "has posted since.")
@API
@TOKEN
@DATA_DIR
def dlq_replay(letter_id: int, force: bool, api: str | None,
               token: str | None, data_dir: Path) -> None:
    """Publish a dead letter again once its cause is fixed (a letter that failed a submission
    replays that whole submission from its stored file)."""
    with api_errors():
        done = connect(api, data_dir, token).replay_letter(letter_id, force)
    if done["replayed_submission"] is not None:
        click.echo(f"dead letter {letter_id}: submission {done['replayed_submission']} is sent "
                   "through again from its stored file")
    else:
        click.echo(f"dead letter {letter_id} published again")
