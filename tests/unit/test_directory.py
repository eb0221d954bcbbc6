"""The CDS directory file (shared/directory.py) and the store rules of the catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from edcs.offline import validate_file
from shared import directory
from shared.catalog.loader import CATALOG_DIR, CatalogError, default_catalog, load_catalog
from shared.institutions import ReferenceFileError

HEADER = "kind,code,name,parent,status,starts,ends\n"


def test_the_shipped_directory_loads_and_leaves_the_bench_district_out() -> None:
    entries = directory.read_file(directory.DEFAULT_FILE)
    leas = {e.code for e in entries if e.kind == "lea"}
    # The bench and the samples use schools 6000000... of 1964733: an LEA the directory does
    # not list is not checked (docs/decisions.md).
    assert "1964733" not in leas and {"1964734", "1964735"} <= leas
    assert all(e.parent in leas for e in entries if e.kind == "school")


def test_every_problem_is_given_with_its_line_and_column() -> None:
    found, problems = directory.check(HEADER + (
        "lea,1970001,An LEA,,active,,\n"
        "district,1970002,,,,,\n"
        "school,1970003,A school,1970001,active,2020-07-01,2019-06-30\n"
        "lea,1970001,Again,,active,,\n"))
    assert [(p.line, p.column) for p in problems] == [
        (3, "kind"), (3, "name"), (3, "status"), (4, "ends"), (5, "code")]
    assert str(problems[0]) == "line 3, kind: must be one of lea, school"
    assert [e.code for e in found] == ["1970001"]


def test_a_school_may_report_to_an_lea_already_loaded() -> None:
    text = HEADER + "school,1970003,A school,1970001,active,,\n"
    assert directory.check(text)[1][0].column == "parent"
    assert [e.parent for e in directory.parse(text, known_leas=["1970001"])] == ["1970001"]


@pytest.mark.parametrize(("text", "said"), [
    ("kind,code,name\nlea,1,x\n", "missing parent, status, starts, ends"),
    (HEADER, "no entries"),
])
def test_a_file_that_is_not_a_directory_is_refused_whole(text: str, said: str) -> None:
    with pytest.raises(ReferenceFileError, match=said):
        directory.parse(text)


def test_a_store_rule_naming_an_unknown_field_is_a_catalog_error(tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / "store_rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"][1]["covers"] = "no_such_field"
    data["rules"][2]["code"] = "no-such-code"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(target)
    assert "SINF-S001: unknown field no_such_field" in str(info.value)
    assert "SINF-S002: unregistered issue code no-such-code" in str(info.value)


def test_a_no_overlap_rule_is_for_the_enrollments_record_type(tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / "store_rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    [overlap] = [r for r in data["rules"] if r["kind"] == "no-overlap"]
    overlap["record_type"] = "STAS"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match="SENR-S002: no-overlap compares enrollments"):
        load_catalog(target)


def test_offline_lists_the_store_rules_of_the_layout_as_skipped(tmp_path: Path) -> None:
    path = tmp_path / "stas.csv"
    path.write_text("STAS,,1,1964733\r\n")
    skipped = validate_file(path, "STAS", default_catalog()).skipped
    assert [s.split(" ")[0] for s in skipped[:2]] == ["STAS-S001", "STAS-S002"]


def test_a_category_says_a_charter_or_an_nps_and_older_files_have_none() -> None:
    found, problems = directory.check(HEADER.replace("ends", "ends,category") + (
        "lea,1970001,An LEA,,active,,,\n"
        "school,1970003,An NPS,1970001,active,,,NPS\n"
        "lea,1970004,A charter LEA,,active,,,charter\n"
        "lea,1970005,Not an NPS,,active,,,nps\n"
        "school,1970006,A magnet,1970001,active,,,magnet\n"))
    assert [(p.line, p.column) for p in problems] == [(5, "category"), (6, "category")]
    assert [(e.code, e.category) for e in found] == [
        ("1970001", None), ("1970003", "nps"), ("1970004", "charter")]
    old = directory.parse(HEADER + "lea,1970001,An LEA,,active,,\n")
    assert old[0].category is None
