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
    # 12.05 #1 (valid in CDS) is the store rule SELA-S001.
    sela = default_coverage().coverages["SELA"]
    assert (sela.implemented, sela.stated) == (13, 26)
    assert sela.stated == len(sela.validations)
    kinds = {r: len(v) for r, v in sela.missing_by_reason().items()}
    assert sum(kinds.values()) == 13
    assert kinds[Reason.NEEDS_POSTED_DATA] == 10


def test_sinf_counts_come_from_its_entries() -> None:
    # Counted by hand from CFS Table 3-2.3: 70 statements; 14 missing, 11 of them on stored
    # records (the ODS identity check on 2.11, 2.13, 2.18 and 2.19, the SSID registry, the
    # enrollment's grade and status), 2 on the Valid Code Combinations, 1 (2.37) no rule kind.
    sinf = default_coverage().coverages["SINF"]
    assert sinf.counted
    assert (sinf.implemented, sinf.stated) == (56, 70)
    assert sinf.stated == len(sinf.validations)
    kinds = {r: len(v) for r, v in sinf.missing_by_reason().items()}
    assert kinds == {Reason.NEEDS_POSTED_DATA: 11, Reason.NEEDS_REFERENCE_DATA: 2,
                     Reason.NO_RULE_KIND: 1}


def test_sprg_counts_come_from_its_entries() -> None:
    # Counted by hand from CFS Table 3-3 and §1.3.1's Replace rule: 33 statements; 9 missing,
    # 5 on reference data (Title I schools twice, the Participating worksheet, the CPA list,
    # Schoolwide funding), 3 on stored records, 3.13 #5's date window garbled.
    sprg = default_coverage().coverages["SPRG"]
    assert sprg.counted
    assert (sprg.implemented, sprg.stated) == (24, 33)
    assert sprg.stated == len(sprg.validations)
    kinds = {r: len(v) for r, v in sprg.missing_by_reason().items()}
    assert kinds == {Reason.NEEDS_REFERENCE_DATA: 5, Reason.NEEDS_POSTED_DATA: 3,
                     Reason.SEED_GARBLED: 1}
    participating = next(v for v in sprg.validations if v.id == "3.15 #2")
    assert participating.missing is not None
    assert participating.missing.reason is Reason.NEEDS_REFERENCE_DATA

def test_sped_counts_come_from_its_entries() -> None:
    # Counted by hand from CFS Table 3-14: 105 statements, 45 not implemented (25 of them age
    # rules and other statements no rule kind says, 12 needing stored records); 14.04 #2,
    # 14.05 #1, 14.05 #3 and 14.06 are the directory's store rules SPED-S001..S003.
    sped = default_coverage().coverages["SPED"]
    assert sped.counted
    assert (sped.implemented, sped.stated) == (60, 105)
    assert sped.stated == len(sped.validations)
    kinds = {r: len(v) for r, v in sped.missing_by_reason().items()}
    assert sum(kinds.values()) == 45
    assert kinds[Reason.NO_RULE_KIND] == 25
    assert kinds[Reason.NEEDS_POSTED_DATA] == 12


def test_sdem_counts_come_from_its_entries() -> None:
    # Counted by hand from CFS Table 3-7: 39 statements, 11 not implemented (5 no rule kind
    # says, 4 the ODS match of name, gender and birth year).
    sdem = default_coverage().coverages["SDEM"]
    assert sdem.counted
    assert (sdem.implemented, sdem.stated) == (28, 39)
    assert sdem.stated == len(sdem.validations)
    kinds = {r: len(v) for r, v in sdem.missing_by_reason().items()}
    assert sum(kinds.values()) == 11
    assert kinds[Reason.NO_RULE_KIND] == 5
    assert kinds[Reason.NEEDS_POSTED_DATA] == 4

def test_ssce_counts_come_from_its_entries() -> None:
    ssce = default_coverage().coverages["SSCE"]
    # Step 2: 15 statements, "All data fields are required" six of them.
    assert (ssce.implemented, ssce.stated) == (21, 21)
    assert ssce.counted
    assert ssce.missing_by_reason() == {}


def test_ode_ssid_counts_come_from_its_entries() -> None:
    ode = default_coverage().coverages["ODE-SSID"]
    assert (ode.implemented, ode.stated) == (17, 22)
    kinds = {r: len(v) for r, v in ode.missing_by_reason().items()}
    assert sum(kinds.values()) == 5
    assert kinds[Reason.UI_ONLY] == 3


def test_disc_lea_counts_come_from_its_entries() -> None:
    lea = default_coverage().coverages["DISC-LEA"]
    assert (lea.implemented, lea.stated) == (30, 32)
    kinds = {r: len(v) for r, v in lea.missing_by_reason().items()}
    assert kinds == {Reason.NEEDS_REFERENCE_DATA: 1, Reason.NEEDS_POSTED_DATA: 1}


def test_disc_sch_counts_come_from_its_entries() -> None:
    sch = default_coverage().coverages["DISC-SCH"]
    assert (sch.implemented, sch.stated) == (31, 36)
    kinds = {r: len(v) for r, v in sch.missing_by_reason().items()}
    assert sum(kinds.values()) == 5
    assert kinds[Reason.NEEDS_REFERENCE_DATA] == 3


def test_senr_counts_come_from_its_entries() -> None:
    """Counted by hand from CFS Table 3-1: 71 statements of the Validation and Required columns
    (1.34's validation 1 as its three "AND" parts) and the §1.3.1 Replace rule; 51 implemented
    (1.25 #2, N470's exit date, with SENR-R032/R033); of the 21 missing, 14 need reference data
    (Valid Code Combinations, SBE charters, private schools, the Adult Ed and CHSPE codes)."""
    senr = default_coverage().coverages["SENR"]
    assert senr.counted and (senr.implemented, senr.stated) == (51, 72)
    kinds = {r: len(v) for r, v in senr.missing_by_reason().items()}
    assert kinds == {Reason.NEEDS_REFERENCE_DATA: 14, Reason.NEEDS_POSTED_DATA: 6,
                     Reason.CROSS_RECORD: 1}
    assert {"1.09", "1.17 #2", "1.25 #2", "1.22 #3", "1.26 #5", "1.34 #1 part 2"} <= {
        v.id for v in senr.validations if v.implemented}


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
    ({"format": "no-such-code"}, "unknown issue code no-such-code"),
    # SELA files have no EDFacts header record, so no reader raises record-count for them.
    ({"format": "record-count"}, "format check record-count needs framing header_record"),
])
def test_an_implementation_the_layout_lacks_is_a_problem(
        tmp_path: Path, implemented_by: dict[str, object], problem: str) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "SELA", 0, {"id": "12.01 #1", "statement": "x",
                                 "implemented_by": [implemented_by]})
    with pytest.raises(CoverageError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_coverage(CATALOG, directory)


def test_a_format_check_the_framing_raises_is_accepted(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "DISC-LEA", 0, {"id": "1.2", "statement": "x",
                                     "implemented_by": [{"format": "record-count"}]})
    assert load_coverage(CATALOG, directory).coverages["DISC-LEA"].validations[0].implemented


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
    assert lines[0] == "SELA: 13 of 26 stated validations implemented"
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
    assert (sela["implemented"], sela["stated"]) == (13, 26)
    assert sum(len(v) for v in sela["missing"].values()) == 13


def test_command_unknown_record_type_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["catalog", "coverage", "NOPE"])
    assert result.exit_code == 2
