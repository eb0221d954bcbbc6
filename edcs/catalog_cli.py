"""``edcs catalog``: what the catalog holds, read from its files (no stack needed)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from edcs.options import FORMAT

if TYPE_CHECKING:  # imported by the command that runs it, not by every edcs command
    from shared.catalog.coverage import Coverage


@click.group()
def catalog() -> None:
    """The record layout catalog (shared/catalog)."""


def _as_data(coverage: Coverage) -> dict[str, Any]:
    return {
        "record_type": coverage.record_type,
        "source": coverage.source,
        "counted": coverage.counted,
        "stated": coverage.stated,
        "implemented": coverage.implemented,
        "missing": {
            reason.value: [{"id": v.id, "count": v.count, "statement": v.statement,
                            "also": [a.value for a in v.missing.also] if v.missing else [],
                            "note": v.missing.note if v.missing else ""} for v in found]
            for reason, found in coverage.missing_by_reason().items()
        },
        "partial": [{"id": v.id, "partial": v.partial}
                    for v in coverage.validations if v.partial],
    }


def _summary(coverage: Coverage) -> str:
    if not coverage.counted:
        return (f"{coverage.record_type}: the seed's stated validations are not counted yet "
                f"({coverage.implemented} implemented ones transcribed)")
    return (f"{coverage.record_type}: {coverage.implemented} of {coverage.stated} stated "
            "validations implemented")


def _echo_text(coverage: Coverage) -> None:
    from shared.catalog.coverage import REASON_TITLES

    click.echo(_summary(coverage))
    for reason, found in coverage.missing_by_reason().items():
        click.echo(f"  missing, {REASON_TITLES[reason]} ({sum(v.count for v in found)}):")
        for v in found:
            times = f" (x{v.count})" if v.count > 1 else ""
            note = v.missing.note if v.missing else ""
            click.echo(f"    - {v.id}{times}: {v.statement}")
            click.echo(f"      {note}")


@catalog.command()
@click.argument("code", required=False)
@FORMAT
def coverage(code: str | None, fmt: str) -> None:
    """How many of the seeds' stated validations each record type implements, and why the
    others are missing (CODE: one record type)."""
    from shared.catalog.coverage import default_coverage

    coverages = default_coverage().coverages
    if code is not None:
        if code.upper() not in coverages:
            raise click.BadParameter(f"no record type {code}; known: {', '.join(coverages)}",
                                     param_hint="CODE")
        coverages = {code.upper(): coverages[code.upper()]}
    if fmt == "json":
        click.echo(json.dumps([_as_data(c) for c in coverages.values()], indent=2))
        return
    for item in coverages.values():
        _echo_text(item)
        if item.missing_by_reason():
            click.echo("")
    if code is None:
        counted = [c for c in coverages.values() if c.counted]
        stated = sum(c.stated for c in counted)
        done = sum(c.implemented for c in counted)
        click.echo(f"Counted record types ({len(counted)} of {len(coverages)}): {done} of "
                   f"{stated} stated validations implemented")
