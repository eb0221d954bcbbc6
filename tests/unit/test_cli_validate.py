"""`edcs validate FILE --collection CODE --format json` (design.md §8): exit codes and JSON.

Run as the installed console script, as users and outside tests run it. Every input file is
written first and the commands run a few at a time (module fixture); the tests read results.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.unit.senr_rows import generate, line, senr_row

_VENV_EDCS = Path(sys.executable).parent / "edcs"
EDCS = str(_VENV_EDCS) if _VENV_EDCS.exists() else (shutil.which("edcs") or "edcs")
ERROR_KEYS = {"row", "field", "code", "severity", "message"}


@dataclass
class Run:
    path: Path
    code: int
    report: dict[str, Any] | None
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        assert self.report is not None, self.stderr
        return self.report

    def located(self) -> list[tuple[int | None, str]]:
        return [(e["row"], e["code"]) for e in self.json["errors"]]


Builder = Callable[[Path], tuple[Path, str]]  # writes the input under a directory
CASES: dict[str, Builder] = {}


def case(builder: Builder) -> Builder:
    CASES[builder.__name__] = builder
    return builder


def edcs_validate(path: Path, collection: str) -> Run:
    done = subprocess.run(
        [EDCS, "validate", str(path), "--collection", collection, "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False)
    out = done.stdout.strip()
    return Run(path, done.returncode, json.loads(out) if out else None, done.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    inputs = {name: build(tmp_path_factory.mktemp(name)) for name, build in CASES.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(edcs_validate, *args) for name, args in inputs.items()}
        return {name: future.result() for name, future in futures.items()}


# --- inputs ------------------------------------------------------------------------------------


@case
def clean(d: Path) -> tuple[Path, str]:
    return generate(d / "senr.csv", 200, errors=0.0), "SENR"


@case
def clean_caret(d: Path) -> tuple[Path, str]:
    return generate(d / "senr.txt", 50, caret=True), "SENR"


@case
def clean_lowercase_code(d: Path) -> tuple[Path, str]:
    return generate(d / "senr.csv", 5), "senr"


@case
def with_errors(d: Path) -> tuple[Path, str]:
    return generate(d / "bad.csv", 60, errors=0.2, seed=11), "SENR"


@case
def one_bad_status(d: Path) -> tuple[Path, str]:
    path = d / "one.csv"
    path.write_bytes(line(senr_row()) + line(senr_row(enrollment_status_code="77",
                                                      ssid="1000000001")))
    return path, "SENR"


@case
def missing(d: Path) -> tuple[Path, str]:
    return d / "nope.csv", "SENR"


@case
def unknown_collection(d: Path) -> tuple[Path, str]:
    path = d / "senr.csv"
    path.write_bytes(line(senr_row()))
    return path, "NOPE"


@case
def binary(d: Path) -> tuple[Path, str]:
    path = d / "senr.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # an image, not text
    return path, "SENR"


@case
def empty(d: Path) -> tuple[Path, str]:
    path = d / "empty.csv"
    path.write_bytes(b"\r\n  \r\n")
    return path, "SENR"


def sinf_line(quote: bool = False) -> bytes:
    values = ["SINF", "", "1", "1964733", "6000202", "2025-2026", "1234567890", "100001",
              "Maria", "", "Garcia", "", "", "", "", "20100103", "F", "Y", "N", "700"]
    return line([f'"{v}"' for v in values] if quote else values)


@case
def sinf(d: Path) -> tuple[Path, str]:
    path = d / "sinf.csv"
    path.write_bytes(sinf_line() * 3)
    return path, "SENR"


@case
def sinf_quoted(d: Path) -> tuple[Path, str]:
    path = d / "sinf.csv"
    path.write_bytes(sinf_line(quote=True) * 3)
    return path, "SENR"


@case
def senr_quoted(d: Path) -> tuple[Path, str]:
    path = d / "quoted.csv"
    # Two enrollments (the same one twice would be duplicate-key-in-file).
    path.write_bytes(line([f'"{v}"' for v in senr_row()])
                     + line([f'"{v}"' for v in senr_row(ssid="1000000001")]))
    return path, "SENR"


@case
def blank_lines(d: Path) -> tuple[Path, str]:
    path = d / "gaps.csv"
    path.write_bytes(b"".join([
        b"\r\n",  # 1
        line(senr_row()),  # 2
        b"\r\n",  # 3
        b"\r\n",  # 4
        line(senr_row(student_birth_date="2010-13-45", ssid="1000000001")),  # 5
        line(senr_row()[:33]),  # 6
        b"   \r\n",  # 7
        line(senr_row(reporting_lea="", ssid="2000000002")),  # 8
        b"\r\n\r\n",  # 9, 10
    ]))
    return path, "SENR"


@case
def latin1_row(d: Path) -> tuple[Path, str]:
    path = d / "latin1.csv"
    latin1 = ",".join(senr_row(student_legal_first_name="José")).encode("latin-1") + b"\r\n"
    path.write_bytes(line(senr_row()) + latin1 + line(senr_row(enrollment_status_code="77",
                                                               ssid="2000000002")))
    return path, "SENR"


# --- tests -------------------------------------------------------------------------------------


def test_clean_generated_file_is_accepted(runs: dict[str, Run]) -> None:
    run = runs["clean"]
    assert run.code == 0, run.stderr
    assert {k: run.json[k] for k in ("collection", "records", "accepted", "errors")} == {
        "collection": "SENR", "records": 200, "accepted": True, "errors": []}


def test_clean_caret_file_is_accepted(runs: dict[str, Run]) -> None:
    run = runs["clean_caret"]
    assert (run.code, run.json["records"], run.json["accepted"]) == (0, 50, True)


def test_collection_code_is_case_insensitive(runs: dict[str, Run]) -> None:
    run = runs["clean_lowercase_code"]
    assert (run.code, run.json["collection"], run.json["records"]) == (0, "SENR", 5)


def planted(lines: list[str]) -> list[tuple[int, str]]:
    """(row, code) of each of gen_senr's deliberate errors, read from the file's own lines."""
    found = []
    for row, text in enumerate(lines, 1):
        f = text.split(",")
        if f[16] == "2010-13-45":
            found.append((row, "invalid-date"))
        elif f[22] == "77":
            found.append((row, "invalid-code"))
        elif f[11] == "X" * 60:
            found.append((row, "max-length"))
        elif f[7] == "0123456789":
            found.append((row, "ssid-format"))
        elif f[3] == "":
            found.append((row, "required"))
    return found


def test_file_with_errors_is_rejected_with_located_errors(runs: dict[str, Run]) -> None:
    run = runs["with_errors"]
    lines = run.path.read_bytes().decode("utf-8").split("\r\n")[:-1]
    assert len(lines) == 60
    expected = planted(lines)
    assert expected
    assert run.code == 1, run.stderr
    assert (run.json["accepted"], run.json["records"]) == (False, 60)
    for error in run.json["errors"]:
        assert set(error) >= ERROR_KEYS, error
        assert error["severity"] == "fatal"
    # every planted error, at its physical 1-based line, and nothing else
    assert run.located() == expected


def test_error_names_the_field_as_the_seed_does(runs: dict[str, Run]) -> None:
    run = runs["one_bad_status"]
    assert run.code == 1
    [error] = run.json["errors"]
    assert (error["row"], error["field"], error["code"]) == (
        2, "Enrollment Status Code", "invalid-code")
    assert "'77'" in error["message"]


def test_missing_file_is_exit_2_with_a_json_report(runs: dict[str, Run]) -> None:
    run = runs["missing"]
    assert run.code == 2
    assert run.located() == [(None, "unreadable-file")]  # --format json stays JSON (review.md)
    assert "nope.csv" in run.json["errors"][0]["message"]


def test_unknown_collection_is_exit_2_with_a_json_report(runs: dict[str, Run]) -> None:
    run = runs["unknown_collection"]
    assert run.code == 2
    assert run.located() == [(None, "unknown-collection")]
    assert "NOPE" in run.json["errors"][0]["message"]


def test_binary_file_is_exit_2(runs: dict[str, Run]) -> None:
    run = runs["binary"]
    assert run.code == 2
    assert run.json["accepted"] is False
    assert run.located() == [(None, "binary-file")]


def test_empty_file_is_exit_1_with_empty_file(runs: dict[str, Run]) -> None:
    run = runs["empty"]
    assert run.code == 1
    assert (run.json["records"], run.json["accepted"]) == (0, False)
    assert run.located() == [(None, "empty-file")]


def test_sinf_file_submitted_as_senr_is_wrong_collection(runs: dict[str, Run]) -> None:
    run = runs["sinf"]
    assert run.code == 1
    assert run.located() == [(None, "wrong-collection")]
    assert "SINF" in run.json["errors"][0]["message"]


def test_quoted_sinf_file_submitted_as_senr_is_wrong_collection(runs: dict[str, Run]) -> None:
    run = runs["sinf_quoted"]
    assert run.code == 1
    assert run.located() == [(None, "wrong-collection")]


def test_fully_quoted_senr_file_is_accepted(runs: dict[str, Run]) -> None:
    run = runs["senr_quoted"]
    assert (run.code, run.json["records"], run.json["errors"]) == (0, 2, [])


def test_rows_stay_physical_with_blank_lines(runs: dict[str, Run]) -> None:
    run = runs["blank_lines"]
    assert run.code == 1
    assert run.json["records"] == 4
    assert run.located() == [(5, "invalid-date"), (6, "field-count"), (8, "required")]


def test_non_utf8_row_is_reported_at_its_row_and_the_rest_checked(runs: dict[str, Run]) -> None:
    run = runs["latin1_row"]
    assert run.code == 1
    assert run.located() == [(2, "encoding"), (3, "invalid-code")]


# --- --windows: a windows file, as `edcs reference load` takes -----------------------------------


def _ssce_file(path: Path, year: str) -> Path:
    path.write_text("academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
                    f"{year},19647330000001,1234567890,a1,12,D\r\n")
    return path


def _validate_with(path: Path, *extra: str) -> Run:
    done = subprocess.run(
        [EDCS, "validate", str(path), "--collection", "SSCE", "--format", "json", *extra],
        capture_output=True, text=True, timeout=120, check=False)
    out = done.stdout.strip()
    return Run(path, done.returncode, json.loads(out) if out else None, done.stderr)


def test_a_windows_file_sets_the_year_an_offline_file_must_carry(tmp_path: Path) -> None:
    today = dt.date.today()
    windows = tmp_path / "windows.csv"
    windows.write_text("collection,academic_year,window,opens,closes\n"
                       f"SSCE,2031-2032,Early,{today - dt.timedelta(days=1)},"
                       f"{today + dt.timedelta(days=30)}\n")
    path = _ssce_file(tmp_path / "ssce.csv", "2031-2032")
    shipped = _validate_with(path)
    assert shipped.code == 1 and ("not-collection-year" in
                                  [e["code"] for e in shipped.json["errors"]])
    loaded = _validate_with(path, "--windows", str(windows))
    assert loaded.code == 0 and loaded.json["errors"] == []


def test_a_windows_file_with_a_wrong_row_is_refused_with_its_line(tmp_path: Path) -> None:
    windows = tmp_path / "windows.csv"
    windows.write_text("collection,academic_year,window,opens,closes\n"
                       "SSCE,2031-2033,Early,2031-01-01,2031-02-01\n")
    run = _validate_with(_ssce_file(tmp_path / "ssce.csv", "2031-2032"), "--windows",
                         str(windows))
    assert run.code == 2
    error = run.json["errors"][0]
    assert error["code"] == "invalid-windows-file" and "line 2" in error["message"]
