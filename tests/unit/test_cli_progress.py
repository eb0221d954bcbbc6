"""`edcs submit --wait` shows records validated and posted: a bar on a terminal, plain lines
otherwise; and the CLI finds its token as it finds the stack."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edcs.client import token_for
from edcs.progress import Progress


def job(staged: int, records: int | None, posted: int = 0, status: str = "processing",
        final: bool = False) -> dict[str, object]:
    return {"id": 7, "staged": staged, "records": records, "posted": posted, "rejected": 0,
            "status": status, "final": final}


def test_a_terminal_gets_one_line_redrawn_with_a_bar() -> None:
    out = io.StringIO()
    show = Progress(out, tty=True)
    for state in (job(0, None), job(500, 1000), job(1000, 1000),
                  job(1000, 1000, 1000, "posted", True)):
        show(state)
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "[###############...............] job 7 processing: 500 of 1000" in text
    assert "1000 of 1000 records validated, 1000 posted, 0 with errors" in text


def test_a_pipe_gets_plain_lines_only_when_something_changed() -> None:
    out = io.StringIO()
    show = Progress(out, tty=False)
    show(job(0, None))
    show(job(0, None))  # unchanged: nothing
    show(job(10, 100))  # changed, but within a few seconds: nothing
    show(job(100, 100, 100, "posted", True))  # final: always
    assert out.getvalue().splitlines() == [
        "job 7 processing: 0 of ? records validated, 0 posted, 0 with errors",
        "job 7 posted: 100 of 100 records validated, 100 posted, 0 with errors"]


def test_the_token_comes_from_the_option_the_environment_or_the_data_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDCS_TOKEN", raising=False)
    assert token_for(None, tmp_path) is None
    (tmp_path / "operator-token").write_text("edcs_from_file\n")
    assert token_for(None, tmp_path) == "edcs_from_file"
    monkeypatch.setenv("EDCS_TOKEN", "edcs_from_env")
    assert token_for(None, tmp_path) == "edcs_from_env"
    assert token_for("edcs_given", tmp_path) == "edcs_given"
