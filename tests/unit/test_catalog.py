"""shared/catalog: the shipped catalog loads, every issue code is registered, and a broken
catalog is reported with all its problems at once."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.validate.engine import Validator
from shared.catalog.loader import CATALOG_DIR, CatalogError, load_catalog

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ISSUE_MAKERS = {"file_issue", "issue", "_note", "Issue"}  # callables that take an issue code


def test_shipped_catalog_loads() -> None:
    catalog = load_catalog()
    senr = catalog.layouts["SENR"]
    # CFS v14.1 Table 3-1: fields 1.01 to 1.34, in order
    assert [f.id for f in senr.fields] == [f"1.{n:02d}" for n in range(1, 35)]
    assert catalog.collection("SENR") is not None
    assert catalog.collection("senr") == catalog.collection("SENR")
    assert catalog.layout_of(catalog.collections["SENR"]) is senr
    for rule in senr.record_rules:
        assert rule.code in catalog.issue_types, rule.id


def _str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(
            node.value):
        return node.value
    return None


def _strs(node: ast.AST | None) -> list[str]:
    """A code constant, or the code constants of a set/tuple/list literal."""
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return [s for e in node.elts if (s := _str(e)) is not None]
    s = _str(node)
    return [s] if s is not None else []


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def codes_in(path: Path) -> set[str]:  # noqa: C901
    """Issue codes a module creates or compares against, found by reading its syntax tree.

    - any ``code="..."`` keyword and any ``{"code": "..."}`` dict entry;
    - string arguments of ``file_issue(...)``, ``issue(...)``, ``_note(...)``, ``Issue(...)``;
    - ``x.code == "..."`` / ``x.code in {...}`` / ``x.code in NAME`` (NAME a module constant);
    - in the rule and matching modules, strings returned as codes (``return "ssid-format"``,
      ``return "invalid-academic-year", "message"``).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants: dict[str, ast.AST] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = statement.value
    returns_codes = path.parent.name in ("rules", "matching")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "code":
                    found.update(_strs(kw.value))
            if _callee(node) in ISSUE_MAKERS:
                for arg in node.args:
                    found.update(_strs(arg))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code":
                    found.update(_strs(value))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides):
                for side in sides:
                    named = constants.get(side.id) if isinstance(side, ast.Name) else None
                    found.update(_strs(named or side))
        elif isinstance(node, ast.Return) and returns_codes:
            returned: ast.AST | None = node.value
            if isinstance(returned, ast.Tuple) and returned.elts:
                returned = returned.elts[0]
            found.update(_strs(returned))
    return found


def all_source_codes() -> dict[str, set[str]]:
    files = [p for top in ("shared", "services", "edcs") for p in (ROOT / top).rglob("*.py")
             if "migrations" not in p.parts]
    return {str(p.relative_to(ROOT)): codes_in(p) for p in sorted(files)}


def test_scanner_finds_the_codes_of_the_named_modules() -> None:
    """The scan is not vacuous: it sees the codes each of these modules is known to raise."""
    by_file = all_source_codes()
    expected = {
        "shared/reader.py": {"empty-file", "binary-file", "encoding", "binary-content",
                             "field-count"},
        "shared/intake.py": {"unknown-collection", "wrong-collection"},
        "services/validate/rules/field.py": {"required", "invalid-code", "invalid-date",
                                             "max-length", "invalid-number",
                                             "invalid-characters", "invalid-format",
                                             "invalid-academic-year"},
        "shared/matching/ssid.py": {"ssid-format", "ssid-check-digit"},
        "services/validate/engine.py": {"reporting-lea-mismatch"},
        "services/post/posting.py": {"delete-missing"},
        "services/web/submissions.py": {"unknown-institution", "file-too-large"},
    }
    for path, codes in expected.items():
        assert codes <= by_file[path], (path, codes - by_file[path])


def test_every_issue_code_in_the_source_is_registered() -> None:
    registered = set(load_catalog().issue_types)
    unregistered = {path: sorted(codes - registered)
                    for path, codes in all_source_codes().items() if codes - registered}
    assert unregistered == {}


def test_every_issue_code_in_the_layouts_is_registered() -> None:
    catalog = load_catalog()
    for layout in catalog.layouts.values():
        assert {r.code for r in layout.record_rules} <= set(catalog.issue_types)


# --- broken catalogs ---------------------------------------------------------------------------


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit_layout(directory: Path, change: Any) -> None:
    path = directory / "layouts" / "SENR.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def field_named(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["fields"] if f["name"] == name)


def test_copy_of_the_catalog_loads(catalog_copy: Path) -> None:
    edit_layout(catalog_copy, lambda data: None)  # a YAML round trip changes nothing
    assert load_catalog(catalog_copy).layouts["SENR"] == load_catalog().layouts["SENR"]


def test_broken_layout_reports_every_problem(catalog_copy: Path) -> None:
    def break_it(data: dict[str, Any]) -> None:
        field_named(data, "student_gender_code")["codeset"] = "no-such-codeset"
        field_named(data, "local_record_id")["id"] = "1.01"  # duplicate of Record Type Code
        data["record_rules"].append({
            "id": "SENR-R999", "kind": "required-when", "field": "no_such_field",
            "when": {"field": "ssid", "populated": True}, "code": "conditional-required",
            "message": "m", "source": "test"})
        data["record_rules"].append({
            "id": "SENR-R998", "kind": "required-when", "field": "ssid",
            "when": {"field": "ssid", "populated": True}, "code": "no-such-issue-code",
            "message": "m", "source": "test"})

    edit_layout(catalog_copy, break_it)
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert "no-such-codeset" in message
    assert "duplicate field id 1.01" in message
    assert "SENR-R999" in message
    assert "no_such_field" in message
    assert "no-such-issue-code" in message


def test_unknown_key_in_a_layout_is_a_load_error(catalog_copy: Path) -> None:
    edit_layout(catalog_copy, lambda d: field_named(d, "ssid").update(requird=True))
    with pytest.raises(CatalogError, match="requird"):
        load_catalog(catalog_copy)


def test_problems_in_several_files_are_reported_together(catalog_copy: Path) -> None:
    edit_layout(catalog_copy, lambda d: field_named(d, "ssid").update(codeset="no-such-codeset"))
    gender = catalog_copy / "codesets" / "gender.yaml"
    gender.write_text(gender.read_text(encoding="utf-8") + "\nunexpected_key: 1\n",
                      encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    assert "gender.yaml" in str(info.value)
    assert "no-such-codeset" in str(info.value)


def test_bad_issue_entry_is_reported_with_the_other_problems(catalog_copy: Path) -> None:
    issues = catalog_copy / "issues.yaml"
    issues.write_text(issues.read_text(encoding="utf-8").replace(
        "{code: encoding, severity: fatal", "{code: encoding, severity: fatl"), encoding="utf-8")
    edit_layout(catalog_copy, lambda d: field_named(d, "ssid").update(codeset="no-such-codeset"))
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    assert "issues.yaml" in str(info.value)
    assert "no-such-codeset" in str(info.value)


def test_invalid_pattern_is_a_load_error(catalog_copy: Path) -> None:
    edit_layout(catalog_copy, lambda d: field_named(d, "reporting_lea").update(
        pattern="[0-9{7}"))
    with pytest.raises(CatalogError, match=r"reporting_lea|1\.04"):
        load_catalog(catalog_copy)


def test_rule_missing_its_parameters_is_a_load_error(catalog_copy: Path) -> None:
    def drop_when(data: dict[str, Any]) -> None:
        rule = next(r for r in data["record_rules"] if r["id"] == "SENR-R003")
        del rule["when"]

    edit_layout(catalog_copy, drop_when)
    with pytest.raises(CatalogError, match="SENR-R003"):
        load_catalog(catalog_copy)


def test_shipped_rules_all_compile() -> None:
    catalog = load_catalog()
    for layout in catalog.layouts.values():
        Validator(layout, catalog)
