"""The offline file commands: ``edcs validate`` (design.md §8), ``edcs collections`` (what each
collection takes and how it posts) and ``edcs sample``. Exit codes: 0 ok, 1 rejected or data
errors, 2 unreadable file or usage error."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edcs.options import FORMAT
from edcs.sample_write import FORMATS, formats_of, write_text, write_xlsx
from shared.catalog.loader import Catalog, default_catalog
from shared.catalog.models import Collection, Posting
from shared.formats.detect import allowed_extensions, framing_words
from shared.reference_file import ReferenceFileError
from shared.settings import Settings
from shared.windows import configured, overlay, read_file

if TYPE_CHECKING:  # the engine is imported by the commands that run it: every edcs command
    from edcs.offline import Report  # would otherwise pay for its import (about 1 s)


def _print_report(path: Path, report: Report) -> None:
    for issue in report.issues:
        where = f"{path}:{issue.row}" if issue.row is not None else str(path)
        click.echo(f"{where}: {issue.severity.value} [{issue.code}] {issue.message}")
    shown = len(report.issues)
    total = sum(report.counts.values())
    if total > shown:
        click.echo(f"... {total - shown} more issues (capped per code): "
                   + ", ".join(f"{c}={n}" for c, n in report.counts.most_common()))
    verdict = "accepted" if report.accepted else "rejected"
    if report.accepted and report.rejected_records:
        verdict += (f" ({report.records - report.rejected_records} would post, "
                    f"{report.rejected_records} kept to be fixed)")
    click.echo(f"{report.collection}: {report.records} records, "
               f"{report.rejected_records} with errors, {total} issues: {verdict}")
    for rule in report.skipped:
        click.echo(f"  not checked offline: {rule}")


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--collection", required=True, help="Collection code, e.g. SENR.")
@FORMAT
@click.option("--max-issues-per-code", default=1000, show_default=True)
@click.option("--institution", default=None,
              help="The submitting institution: the Reporting LEA and a Type A header's InstID "
                   "are checked against it, as at upload.")
@click.option("--windows", "windows_file", type=click.Path(path_type=Path), default=None,
              help="A collection windows file (collection,academic_year,window,opens,closes), "
                   "as `edcs reference load` takes: its windows replace the shipped ones of the "
                   "same collection, year and name, as loading it into a stack would.")
def validate(file: Path, collection: str, fmt: str, max_issues_per_code: int,
             institution: str | None, windows_file: Path | None) -> None:
    """Check FILE offline with the pipeline's rules (no broker, no store rules).

    Reads every format the collection takes (edcs collections): delimited, fixed width, XML,
    .xlsx, UTF-8 or UTF-16, in a .zip where allowed.
    """
    from edcs.offline import validate_file

    catalog = default_catalog()
    if catalog.collection(collection) is None:
        _refuse(fmt, collection, "unknown-collection",
                f"unknown collection '{collection}'; known: "
                f"{', '.join(sorted(catalog.collections))}")
    windows = configured(Settings().windows_file)
    if windows_file is not None:
        try:
            windows = tuple(overlay(windows, read_file(windows_file, catalog.collections)))
        except ReferenceFileError as exc:
            _refuse(fmt, collection, "invalid-windows-file",
                    f"the windows file {windows_file} cannot be used: {exc}")
    try:
        report = validate_file(file, collection, catalog, max_issues_per_code,
                               institution_id=institution, windows=windows)
    except OSError as exc:
        _refuse(fmt, collection, "unreadable-file",
                f"cannot read {file}: {exc.strerror or exc}")
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_report(file, report)
    sys.exit(2 if report.unreadable else 0 if report.accepted and not report.rejected_records
             else 1)


def _refuse(fmt: str, collection: str, code: str, message: str) -> None:
    """Exit 2 with the reason: a JSON report under ``--format json`` (review.md), else text."""
    if fmt == "json":
        click.echo(json.dumps({"collection": collection.upper(), "records": 0,
                               "accepted": False, "errors": [{
                                   "row": None, "field": None, "code": code,
                                   "severity": "fatal", "message": message}], "counts": {}}))
    else:
        click.echo(f"edcs: {message}", err=True)
    sys.exit(2)


def describe(catalog: Catalog, collection: Collection) -> dict[str, object]:
    """One collection as ``edcs collections`` shows it."""
    layout = catalog.layout_of(collection)
    posting = ("full replacement" if collection.posting is Posting.FULL_REPLACEMENT
               else layout.method.value)
    return {"code": collection.code, "title": collection.title,
            "layout": f"{layout.record_type} v{layout.layout_version}",
            "fields": len(layout.fields), "framing": framing_words(layout),
            "extensions": list(allowed_extensions(layout)),
            "acceptance": collection.acceptance.value, "posting": posting}


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def collections(fmt: str) -> None:
    """Every collection: its layout, the formats it takes, acceptance and posting."""
    catalog = default_catalog()
    rows = [describe(catalog, c) for c in catalog.collections.values()]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['code']:<9} {row['title']}\n"
                   f"          layout {row['layout']} ({row['fields']} fields); "
                   f"{row['framing']} ({', '.join(row['extensions'])})\n"  # type: ignore[arg-type]
                   f"          {row['acceptance']}; posting: {row['posting']}")


@click.command()
@click.argument("code")
@click.argument("count", type=click.IntRange(min=0))
@click.option("--errors", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fraction of records with one deliberate error.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--institution", default=None,
              help="The submitting institution written into the LEA field "
                   "[default: 1964733; 2180 for ODE-SSID].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="File format [default: the collection's first: csv, or caret].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write here [default: standard output]; EDFacts files name it in their "
                   "header record.")
def sample(code: str, count: int, errors: float, seed: int, institution: str | None,
           fmt: str | None, out: Path | None) -> None:
    """Write a synthetic file of COUNT records of collection CODE, valid against its rules."""
    catalog = default_catalog()
    collection = catalog.collection(code)
    if collection is None:
        click.echo(f"edcs: unknown collection '{code}'; known: "
                   f"{', '.join(sorted(catalog.collections))}", err=True)
        sys.exit(2)
    layout = catalog.layout_of(collection)
    allowed = formats_of(layout)
    fmt = fmt or allowed[0]
    if fmt not in allowed:
        click.echo(f"edcs: {collection.code} files are not written as {fmt}; use one of "
                   f"{', '.join(allowed)}", err=True)
        sys.exit(2)
    institution = institution or ("2180" if collection.code == "ODE-SSID" else "1964733")
    from edcs.sample import sample_records

    records = list(sample_records(layout, catalog, count, institution=institution,
                                  errors=errors, seed=seed,
                                  windows=configured(Settings().windows_file)))
    if fmt == "xlsx":
        if out is None:
            click.echo("edcs: an .xlsx sample needs --out FILE", err=True)
            sys.exit(2)
        write_xlsx(out, layout, records)
        return
    name = out.name if out is not None else "XX" + collection.code[-3:] + "DISCDATA1.csv"
    buffer = io.StringIO()
    write_text(buffer, layout, records, fmt, name)
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        out.write_bytes(buffer.getvalue().encode())
