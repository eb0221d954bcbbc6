"""Coverage files (shared/catalog/coverage/*.yaml) stay honest against the layouts, and
``edcs catalog coverage`` prints counts computed from their entries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from edcs.cli import main
from shared.catalog.coverage import (
    COVERAGE_DIR,
    Coverage,
    CoverageError,
    Reason,
    Validation,
    default_coverage,
    load_coverage,
)
from shared.catalog.loader import default_catalog

CATALOG = default_catalog()


def test_every_layout_has_a_checked_coverage_file() -> None:
    report = default_coverage()  # raises CoverageError listing every problem
    assert set(report.coverages) == set(CATALOG.layouts)


def test_sela_counts_come_from_its_entries() -> None:
    sela = default_coverage().coverages["SELA"]
    assert (sela.implemented, sela.stated) == (12, 26)
    assert sela.stated == len(sela.validations)
    kinds = {r: len(v) for r, v in sela.missing_by_reason().items()}
    assert sum(kinds.values()) == 14
    assert kinds[Reason.NEEDS_POSTED_DATA] == 10


def test_senr_counts_come_from_its_entries() -> None:
    """Counted by hand from CFS Table 3-1: 71 statements of the Validation and Required columns
    (1.34's validation 1 as its three "AND" parts) and the §1.3.1 Replace rule; 42 implemented,
    12 missing because no rule kind says them (ages, two-field conditions, N470's exit date)."""
    senr = default_coverage().coverages["SENR"]
    assert senr.counted and (senr.implemented, senr.stated) == (42, 72)
    kinds = {r: len(v) for r, v in senr.missing_by_reason().items()}
    assert kinds[Reason.NO_RULE_KIND] == 12
    assert kinds[Reason.NEEDS_REFERENCE_DATA] == 11
    assert {"1.09", "1.22 #3", "1.26 #5"} <= {v.id for v in senr.validations if v.implemented}


def test_stas_counts_come_from_its_entries() -> None:
    """Counted by hand from CFS Table 3-13: 42 statements (each day count 13.15-13.22 states a
    bound, a format and a blank-when-exempt rule, and is conditionally required) and the
    §3.13.5 relationship; only the SSID registry and 13.13's exempt programs are missing."""
    stas = default_coverage().coverages["STAS"]
    assert stas.counted and (stas.implemented, stas.stated) == (41, 43)
    assert {r: len(v) for r, v in stas.missing_by_reason().items()} == {
        Reason.NEEDS_POSTED_DATA: 2}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "coverage"
    shutil.copytree(COVERAGE_DIR, target)
    return target


def _edit(directory: Path, code: str, index: int, entry: dict[str, object]) -> None:
    path = directory / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["validations"][index] = entry
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


@pytest.mark.parametrize(("implemented_by", "problem"), [
    ({"rules": ["SELA-R999"]}, "unknown rule SELA-R999"),
    ({"field": "local_record_id", "check": "required"}, "field local_record_id has no required"),
    ({"field": "no_such_field", "check": "allowed"}, "unknown field no_such_field"),
    ({"unique_in_file": ["ssid"]}, "no unique_in_file group ['ssid']"),
])
def test_an_implementation_the_layout_lacks_is_a_problem(
        tmp_path: Path, implemented_by: dict[str, object], problem: str) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "SELA", 0, {"id": "12.01 #1", "statement": "x",
                                 "implemented_by": [implemented_by]})
    with pytest.raises(CoverageError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_coverage(CATALOG, directory)


def test_a_layout_without_coverage_file_is_a_problem(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    (directory / "SELA.yaml").unlink()
    with pytest.raises(CoverageError, match="layout SELA has no coverage file"):
        load_coverage(CATALOG, directory)


def test_an_entry_is_implemented_or_missing_never_both_or_neither() -> None:
    with pytest.raises(ValidationError, match="exactly one of implemented_by, missing"):
        Validation.model_validate({"id": "1", "statement": "x"})
    with pytest.raises(ValidationError, match="exactly one of implemented_by, missing"):
        Validation.model_validate({"id": "1", "statement": "x", "implemented_by": [
            {"layout": "lea_field"}], "missing": {"reason": "ui-only", "note": "n"}})
    with pytest.raises(ValidationError):  # a reason outside the closed list
        Validation.model_validate({"id": "1", "statement": "x",
                                   "missing": {"reason": "too-hard", "note": "n"}})


def test_counts_follow_the_entries() -> None:
    coverage = Coverage.model_validate({
        "record_type": "X", "source": "s", "validations": [
            {"id": "1", "statement": "a", "count": 3, "implemented_by": [{"rules": ["R"]}]},
            {"id": "2", "statement": "b", "missing": {"reason": "seed-garbled", "note": "n"}},
        ]})
    assert (coverage.implemented, coverage.stated) == (3, 4)


def test_command_text_prints_the_summary_and_the_missing_by_reason() -> None:
    result = CliRunner().invoke(main, ["catalog", "coverage", "sela"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "SELA: 12 of 26 stated validations implemented"
    assert "  missing, needs posted data (stored records no file carries) (10):" in lines
    assert "    - 12.13 #7: ADEL requires the student to be 22 or older and enrolled KN " \
           "through 12" in lines


def test_command_all_record_types_sums_the_files() -> None:
    result = CliRunner().invoke(main, ["catalog", "coverage"])
    assert result.exit_code == 0, result.output
    report = default_coverage().coverages
    lines = result.output.splitlines()
    for code, item in report.items():
        start = (f"{code}: {item.implemented} of {item.stated} " if item.counted else
                 f"{code}: the seed's stated validations are not counted yet "
                 f"({item.implemented} implemented")
        assert any(line.startswith(start) for line in lines), code
    counted = [c for c in report.values() if c.counted]
    total = sum(c.stated for c in counted)
    done = sum(c.implemented for c in counted)
    assert (f"Counted record types ({len(counted)} of {len(report)}): {done} of {total} stated "
            "validations implemented") in lines


def test_command_json_is_the_same_as_data() -> None:
    result = CliRunner().invoke(main, ["catalog", "coverage", "SELA", "--format", "json"])
    assert result.exit_code == 0, result.output
    [sela] = json.loads(result.output)
    assert (sela["implemented"], sela["stated"]) == (12, 26)
    assert sum(len(v) for v in sela["missing"].values()) == 14


def test_command_unknown_record_type_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["catalog", "coverage", "NOPE"])
    assert result.exit_code == 2
