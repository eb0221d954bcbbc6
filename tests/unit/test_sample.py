"""`edcs sample`: for every collection and format, a file its own rules accept (or reject as
asked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edcs.cli import main
from edcs.offline import validate_file
from edcs.sample_write import formats_of
from shared.catalog.loader import default_catalog
from shared.catalog.models import Acceptance

CATALOG = default_catalog()
EXT = {"csv": "csv", "caret": "txt", "tab": "tab", "fixed": "txt", "xml": "xml", "xlsx": "xlsx"}
CASES = [(code, fmt) for code, c in CATALOG.collections.items()
         for fmt in formats_of(CATALOG.layout_of(c))]


def sample(tmp_path: Path, code: str, fmt: str, *extra: str) -> Path:
    name = (f"XX{code[-3:]}DISCDATA1.{EXT[fmt]}" if code.startswith("DISC")
            else f"sample.{EXT[fmt]}")
    out = tmp_path / name
    done = CliRunner().invoke(main, ["sample", code, "40", "--format", fmt, "--out", str(out),
                                     *extra])
    assert done.exit_code == 0, done.output
    return out


@pytest.mark.parametrize(("code", "fmt"), CASES)
def test_a_sample_passes_its_own_rules(tmp_path: Path, code: str, fmt: str) -> None:
    institution = "2180" if code == "ODE-SSID" else "1964733"
    report = validate_file(sample(tmp_path, code, fmt), code, CATALOG,
                           institution_id=institution)
    assert [(i.row, i.field_name, i.code) for i in report.issues if i.fatal] == []
    assert (report.records, report.accepted) == (40, True)


@pytest.mark.parametrize("code", sorted(CATALOG.collections))
def test_errors_make_that_fraction_of_records_wrong(tmp_path: Path, code: str) -> None:
    fmt = formats_of(CATALOG.layout_of(CATALOG.collections[code]))[0]
    path = sample(tmp_path, code, fmt, "--errors", "0.25", "--seed", "3")
    report = validate_file(path, code, CATALOG)
    keeps_the_rest = CATALOG.collections[code].acceptance is Acceptance.VALID_RECORDS_POST
    assert report.rejected_records == 10 and report.accepted is keeps_the_rest


def test_the_same_seed_gives_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = sample(tmp_path / "a", "SENR", "csv"), sample(tmp_path / "b", "SENR", "csv")
    assert first.read_bytes() == second.read_bytes()


def test_collections_lists_every_collection_with_framing_and_posting() -> None:
    done = CliRunner().invoke(main, ["collections", "--format", "json"])
    import json

    rows = {r["code"]: r for r in json.loads(done.output)}
    assert set(rows) == set(CATALOG.collections)
    assert rows["DISC-LEA"]["posting"] == "full replacement"
    assert "fixed width 269" in rows["DISC-SCH"]["framing"]
    assert rows["ODE-SSID"]["extensions"] == [".csv", ".txt", ".smf", ".zip", ".xml"]
