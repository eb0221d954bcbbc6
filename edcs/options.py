"""Options and error handling every ``edcs`` command that talks to a stack shares."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from edcs.client import ApiError

DATA_DIR = click.option("--data-dir", type=click.Path(path_type=Path), default=Path("var"),
                        show_default=True, envvar="EDCS_DATA_DIR",
                        help="Where the embedded stack keeps its files.")
API = click.option("--api", default=None, help="Web API URL (default: the running stack).")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True)


@contextmanager
def api_errors() -> Iterator[None]:
    """An unreachable stack or a refused request: say why and exit 2."""
    try:
        yield
    except ApiError as exc:
        click.echo(f"edcs: {exc}", err=True)
        sys.exit(2)
