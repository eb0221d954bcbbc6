"""``edcs reference load FILE``: load reference data the seeds do not give (state operator),
through the web API: the CDS directory (``kind,code,name,parent,status,starts,ends``), the
institution hierarchy (``id,name,kind,parent_id,contact_email``) or the collection windows
(``collection,academic_year,window,opens,closes``), told apart by the header."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edcs.options import API, DATA_DIR, FORMAT, TOKEN, api_errors, connect


@click.group()
def reference() -> None:
    """Reference data: the CDS directory, the institutions and the collection windows (an
    operator's work)."""


@reference.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@FORMAT
@API
@TOKEN
@DATA_DIR
def reference_load(file: Path, fmt: str, api: str | None, token: str | None,
                   data_dir: Path) -> None:
    """Load a reference file; a file with any problem loads nothing and every problem is
    listed with its line and column (exit 2)."""
    with api_errors():
        done = connect(api, data_dir, token).load_reference(file)
    if fmt == "json":
        click.echo(json.dumps(done))
        return
    click.echo(f"{done['kind']}: {done['added']} added, {done['updated']} updated")
