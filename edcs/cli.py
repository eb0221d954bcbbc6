"""The ``edcs`` command (design.md §8). Exit codes: 0 ok, 1 rejected or data errors, 2 usage,
unreadable file or an unreachable service."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from edcs import accounts_cli, catalog_cli, formats_cli, identity_cli, ops, reference_cli
from edcs.options import API, DATA_DIR, FORMAT, TOKEN, api_errors, connect
from edcs.progress import Progress


@click.group()
def main() -> None:
    """edcs: state education data collection."""


@main.command()
@DATA_DIR
@click.option("--port", type=int, default=None,
              help="Port of the web app [default: 8000, or a free one if 8000 is taken].")
@click.option("--scale", multiple=True, metavar="STAGE=N",
              help="Run N workers of a stage (ingest, validate, post, notify), e.g. validate=2.")
@click.option("--monitoring", is_flag=True,
              help="Also run Prometheus (Debian's prometheus) with the alert rules, scraping "
                   "every process; the window page then shows lag and alerts.")
def up(data_dir: Path, port: int | None, scale: tuple[str, ...], monitoring: bool) -> None:
    """Start the embedded stack: broker, store, SMTP sink, workers and web app."""
    from edcs.stack import WORKERS, Stack, free_port, port_open
    from shared.reference_file import ReferenceFileError

    workers: dict[str, int] = {}
    for item in scale:
        stage, _, count = item.partition("=")
        if stage not in WORKERS or not count.isdigit() or int(count) < 1:
            raise click.BadParameter(f"{item!r}: use STAGE=N with STAGE one of "
                                     f"{', '.join(WORKERS)}", param_hint="--scale")
        workers[stage] = int(count)
    if port is None:
        port = 8000 if not port_open(8000) else free_port()
        if port != 8000:
            click.echo(f"edcs: port 8000 is taken; the web app uses {port} (the edcs command "
                       "finds it in the data dir)")
    stack = Stack(data_dir=data_dir, web_port=port, scale=workers, monitoring=monitoring)
    click.echo("edcs: starting the embedded stack ...")
    try:
        stack.start()
    except (TimeoutError, RuntimeError, OSError, ReferenceFileError) as exc:
        click.echo(f"edcs: could not start: {exc} (logs in {data_dir / 'logs'})", err=True)
        sys.exit(2)
    width = max(len(k) for k in stack.endpoints)
    for name, where in stack.endpoints.items():
        click.echo(f"  {name:<{width}}  {where}")
    if stack.sign_in is not None:
        click.echo(f"edcs: sign in at {stack.endpoints['web']}/login as {stack.sign_in.email}; "
                   f"the password is in {stack.sign_in.password_file} (the edcs command uses "
                   f"the operator token in {stack.sign_in.token_file}). Add users with "
                   "`edcs users add`.")
    click.echo("edcs: up. Submit with: edcs submit FILE --collection SENR --institution "
               "1964733 --wait   (Ctrl-C stops everything)")
    stopping = False

    def on_signal(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    shown = 0
    while not stopping:
        for line in stack.events[shown:]:
            click.echo(f"edcs: {line}", err=True)
        shown = len(stack.events)
        time.sleep(0.5)
    click.echo("edcs: stopping ...")
    stack.stop()
    click.echo("edcs: stopped.")
    sys.exit(0)


def _print_job(job: dict[str, Any]) -> None:
    click.echo(f"job {job['id']}: {job['status']}")
    click.echo(f"  collection {job['collection']}, institution {job['institution']}, "
               f"file {job['filename']}")
    records = job["records"] if job["records"] is not None else "?"
    click.echo(f"  records {records}, posted {job['posted']}, with errors "
               f"{job['rejected']}, warnings {job['warnings']}, issues {job['issues']}")
    if job.get("standing"):
        click.echo(f"  {job['standing']} submission")
    if job.get("held"):
        click.echo(f"  {job['held']} records with errors kept to be fixed: edcs held {job['id']}")
    if job.get("message"):
        click.echo(f"  {job['message']}")
    if job.get("waiting_for"):
        click.echo(f"  waits for submission {job['waiting_for']} (received earlier, same "
                   "institution and collection)")
    for event in job.get("history", []):
        click.echo(f"  {event['at']}  {event['kind']}: {event['message']}")
    for mail in job.get("emails", []):
        if mail["status"] != "sent":
            why = f": {mail['error']}" if mail.get("error") else ""
            click.echo(f"  email {mail['milestone']}: {mail['status']}{why}")
    click.echo(f"  details: {job['links']['page']}   errors (csv): {job['links']['issues_csv']}")


def exit_for(job: dict[str, Any]) -> int:
    return 0 if job["status"] == "posted" else 1 if job["final"] else 0


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", required=True)
@click.option("--institution", required=True, help="The institution submitting (e.g. LEA CD code).")
@click.option("--email", default=None, help="Where results go (default: institution contact).")
@click.option("--wait", is_flag=True, help="Wait for the final status.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds --wait waits.")
@FORMAT
@API
@TOKEN
@DATA_DIR
def submit(file: Path, collection: str, institution: str, email: str | None, wait: bool,
           timeout: float, fmt: str, api: str | None, token: str | None, data_dir: Path) -> None:
    """Send FILE to the running stack through the web API."""
    with api_errors():
        client = connect(api, data_dir, token)
        job = client.submit(file, collection, institution, email)
        if wait:
            job = client.poll(int(job["id"]), timeout, Progress())
    if fmt == "json":
        click.echo(json.dumps(job))
    else:
        _print_job(job)
    sys.exit(exit_for(job) if wait else 0 if job["status"] != "rejected" else 1)


@main.command()
@click.option("--institution", default=None)
@FORMAT
@API
@TOKEN
@DATA_DIR
def jobs(institution: str | None, fmt: str, api: str | None,
         token: str | None, data_dir: Path) -> None:
    """List recent submissions, newest first."""
    with api_errors():
        found = connect(api, data_dir, token).jobs(institution)
    if fmt == "json":
        click.echo(json.dumps(found))
        return
    for j in found:
        click.echo(f"{j['id']:>6}  {j['collection']:<8} {j['institution']:<8} "
                   f"{j['status']:<10} records {j['records']} posted {j['posted']} "
                   f"errors {j['rejected']}  {j['filename']}")


@main.command()
@click.argument("job_id", type=int)
@click.option("--issues", "show_issues", is_flag=True, help="Also list every issue.")
@click.option("--fail", "fail_reason", default=None, metavar="REASON",
              help="Operator: give up on a submission that is not final, saying why.")
@FORMAT
@API
@TOKEN
@DATA_DIR
def job(job_id: int, show_issues: bool, fail_reason: str | None, fmt: str, api: str | None,
        token: str | None, data_dir: Path) -> None:
    """Show one submission: status, counts, history and where its errors are."""
    with api_errors():
        client = connect(api, data_dir, token)
        if fail_reason is not None:
            client.fail(job_id, fail_reason)
        found = client.job(job_id)
        issues = client.issues(job_id) if show_issues or fmt == "json" else []
    if fmt == "json":
        click.echo(json.dumps({**found, "errors": issues}))
        return
    _print_job(found)
    for i in issues:
        click.echo(f"  row {i['row']}: {i['severity']} [{i['code']}] {i['field_name'] or ''}: "
                   f"{i['message']}")


@main.command()
@click.argument("job_id", type=int)
@click.option("--delete", "delete_all", is_flag=True,
              help="Housekeeping: delete the held records (they must be submitted again).")
@FORMAT
@API
@TOKEN
@DATA_DIR
def held(job_id: int, delete_all: bool, fmt: str, api: str | None,
         token: str | None, data_dir: Path) -> None:
    """List the records of a job kept to be fixed, with their errors (Review Errors)."""
    with api_errors():
        client = connect(api, data_dir, token)
        if delete_all:
            click.echo(f"deleted {client.housekeeping(job_id)} held records of job {job_id}")
            return
        records = client.held(job_id)
    if fmt == "json":
        click.echo(json.dumps(records))
        return
    if not records:
        click.echo(f"job {job_id} holds no records")
    for r in records:
        click.echo(f"row {r['row']}:")
        for i in r["issues"]:
            click.echo(f"    [{i['code']}] {i['field_name'] or ''}: {i['message']}")


@main.command()
@click.argument("job_id", type=int)
@click.argument("row", type=int)
@click.argument("changes", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.option("--email", default=None, help="Where the result goes.")
@click.option("--wait", is_flag=True, help="Wait for the correction's final status.")
@click.option("--timeout", default=600.0, show_default=True)
@FORMAT
@API
@TOKEN
@DATA_DIR
def fix(job_id: int, row: int, changes: tuple[str, ...], email: str | None, wait: bool,
        timeout: float, fmt: str, api: str | None, token: str | None, data_dir: Path) -> None:
    """Correct a held record (FIELD names as in `edcs held --format json`); the corrected
    record is validated and posted like a file of one record."""
    pairs = [c.partition("=") for c in changes]
    bad = [c for c, (_, sep, _) in zip(changes, pairs, strict=True) if not sep]
    if bad:
        raise click.UsageError(f"expected FIELD=VALUE, got {' '.join(bad)}")
    with api_errors():
        client = connect(api, data_dir, token)
        found = client.fix(job_id, row, {k: v for k, _, v in pairs}, email)
        if wait:
            found = client.wait(int(found["id"]), timeout)
    if fmt == "json":
        click.echo(json.dumps(found))
    else:
        _print_job(found)
    if not wait:
        sys.exit(0)
    fixed = found["status"] == "posted" and found["posted"] >= 1 and not found["rejected"]
    if not fixed and fmt != "json":
        click.echo(f"edcs: the correction did not post; row {row} of job {job_id} keeps its "
                   f"errors (see `edcs held {job_id}`)", err=True)
    sys.exit(0 if fixed else 1)


@main.command()
@click.argument("collection")
@click.option("--institution", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "txt", "xml"]), default="csv",
              show_default=True, help="csv: comma-delimited; txt: caret-delimited; xml.")
@click.option("--changed-since", default=None, help="Only records changed on or after "
                                                    "this date (YYYY-MM-DD).")
@API
@TOKEN
@DATA_DIR
def export(collection: str, institution: str, fmt: str, changed_since: str | None,
           api: str | None, token: str | None, data_dir: Path) -> None:
    """Print the posted records in the collection's upload layout (Production Download)."""
    with api_errors():
        for chunk in connect(api, data_dir, token).export(collection, institution, fmt,
                                                           changed_since):
            click.echo(chunk, nl=False)


@main.command()
@click.argument("collection", required=False)
@click.option("--institution", default=None, help="Whose records (required but with "
                                                  "--key-form).")
@click.option("--key", default=None,
              help="One record's key: its key fields' values joined by '|' in the order "
                   "`edcs history CODE --institution ID --key-form` prints (SENR: "
                   "school_of_attendance|ssid|enrollment_start_date, e.g. "
                   "6000123|1234567890|20250815).")
@click.option("--key-form", is_flag=True, help="Print how the collection's keys are written.")
@click.option("--ssid", default=None, help="A student's identity: its records and merges.")
@click.option("--submission", type=int, default=None, help="Changes made by one submission.")
@FORMAT
@API
@TOKEN
@DATA_DIR
def history(collection: str | None, institution: str | None, key: str | None, key_form: bool,
            submission: int | None, ssid: str | None, fmt: str, api: str | None,
            token: str | None, data_dir: Path) -> None:
    """Show changes to posted records: who, which submission, when, before and after (every
    change: the API is read page after page); with --ssid every change to a student's
    identity, merges included."""
    if ssid is not None:
        _identity_history(ssid, fmt, api, token, data_dir)
        return
    if collection is None:
        raise click.UsageError("give COLLECTION (and --institution), or --ssid SSID")
    with api_errors():
        client = connect(api, data_dir, token)
        if key_form:
            click.echo(client.collection(collection)["key"])
            return
        if not institution:
            raise click.UsageError("Missing option '--institution'.")
        changes = client.history(collection, institution, key, submission)
    if not changes and key is not None:
        click.echo(f"edcs: no changes to a {collection} record with the key {key!r} of "
                   f"institution {institution}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(changes))
        return
    for c in changes:
        click.echo(f"{c['at']}  {c['action']:<8} {c['key']}  submission {c['submission']} by "
                   f"{c['by']}")
        if c["before"] and c["after"]:
            changed = [f"{i + 1}: {b!r} -> {a!r}"
                       for i, (b, a) in enumerate(zip(c["before"], c["after"], strict=False))
                       if b != a]
            click.echo("    changed fields " + ", ".join(changed))


def _identity_history(ssid: str, fmt: str, api: str | None, token: str | None,
                      data_dir: Path) -> None:
    with api_errors():
        changes = connect(api, data_dir, token).identity_history(ssid)
    if fmt == "json":
        click.echo(json.dumps(changes))
        return
    if not changes:
        click.echo(f"the registry has no changes of SSID {ssid}")
    for c in changes:
        other = f" with {c['other_ssid']}" if c["other_ssid"] else ""
        source = f" by submission {c['submission']}" if c["submission"] else ""
        click.echo(f"{c['at']}  {c['action']}{other}{source}{' by ' + c['by'] if c['by'] else ''}")


@main.command()
@click.option("--registry", required=True, type=click.Path(path_type=Path),
              help="The students known so far (CSV with the matching columns).")
@click.option("--input", "incoming", required=True, type=click.Path(path_type=Path),
              help="The students to match (same columns).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Where to write row, level, decision, ssid, candidates.")
def match(registry: Path, incoming: Path, out: Path) -> None:
    """Match students to SSIDs offline (design.md §5, §8); problems go to stderr."""
    from shared.matching.csvio import UnreadableFileError
    from shared.matching.offline import run

    try:
        summary = run(registry, incoming, out, lambda message: click.echo(message, err=True))
    except UnreadableFileError as exc:
        click.echo(f"edcs: {exc}", err=True)
        sys.exit(2)
    click.echo(summary.describe())
    sys.exit(summary.exit_code)


main.add_command(ops.replay)
main.add_command(ops.dlq)
main.add_command(accounts_cli.users)
main.add_command(accounts_cli.institutions)
main.add_command(identity_cli.suggestions)
main.add_command(identity_cli.duplicates)
main.add_command(formats_cli.validate)
main.add_command(formats_cli.collections)
main.add_command(formats_cli.sample)
main.add_command(catalog_cli.catalog)
main.add_command(reference_cli.reference)
