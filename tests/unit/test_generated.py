"""Generated files are what the code generates (scripts/generate-deploy writes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edcs.deploygen import ROOT, generated

FILES = generated()


@pytest.mark.parametrize("relative", sorted(FILES), ids=str)
def test_checked_in_copy_is_what_the_code_generates(relative: Path) -> None:
    path = ROOT / relative
    assert path.exists(), f"{relative} is missing: run .venv/bin/python scripts/generate-deploy"
    assert path.read_text("utf-8") == FILES[relative], (
        f"{relative} differs from what the code generates: run "
        ".venv/bin/python scripts/generate-deploy and commit the result")
