"""Every new format through the real pipeline (issue 12), and `edcs validate` agreeing with it.

Each file is submitted to the embedded stack (Tansu, SQLite, the workers, the web app) as a
district would; the job's errors are compared with what `edcs validate` says of the same file.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stack import RunningStack, edcs_command

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def sample(stack: RunningStack, path: Path, code: str, *args: str) -> Path:
    """`edcs sample` (offline: it needs no stack)."""
    done = subprocess.run([edcs_command(), "sample", code, *args, "--out", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return path


def located(errors: list[dict[str, Any]]) -> list[tuple[int | None, str]]:
    return sorted(((e["row"], e["code"]) for e in errors), key=lambda x: (x[0] or 0, x[1]))


def offline(path: Path, code: str, institution: str) -> dict[str, Any]:
    done = subprocess.run([edcs_command(), "validate", str(path), "--collection", code,
                           "--institution", institution, "--format", "json"],
                          capture_output=True, text=True, check=False)
    return dict(json.loads(done.stdout))


def submitted(stack: RunningStack, path: Path, code: str, institution: str) -> dict[str, Any]:
    """Submit, wait for the result, and check that `edcs validate` said the same."""
    job = stack.submit(path, code, institution)
    errors = json.loads(stack.edcs("job", str(job["id"]), "--format", "json").stdout)["errors"]
    report = offline(path, code, institution)
    assert located(errors) == located(report["errors"]), (errors, report)
    if code != "ODE-SSID":  # valid records post there; offline "accepted" means no errors
        assert report["accepted"] is (job["status"] == "posted")
    job["errors"] = errors
    return job


@pytest.mark.parametrize(("name", "fmt", "errors"), [
    ("senr.xml", "xml", "0"), ("senr.xlsx", "xlsx", "0"), ("bad.xml", "xml", "0.1"),
])
def test_calpads_xml_and_xlsx(sqlite_stack: RunningStack, tmp_path: Path, name: str, fmt: str,
                              errors: str) -> None:
    path = sample(sqlite_stack, tmp_path / name, "SENR", "60", "--format", fmt, "--errors",
                  errors, "--seed", "21" if fmt == "xml" else "22")
    job = submitted(sqlite_stack, path, "SENR", "1964733")
    if errors == "0":
        assert (job["status"], job["posted"]) == ("posted", 60), job
        assert "XML" in str(job["history"]) or "Excel" in str(job["history"])
    else:
        assert job["status"] == "rejected" and job["rejected"] == 6


def test_utf16_file_posts(sqlite_stack: RunningStack, tmp_path: Path) -> None:
    plain = sample(sqlite_stack, tmp_path / "plain.csv", "SENR", "40", "--seed", "23")
    path = tmp_path / "senr16.csv"
    path.write_bytes(b"\xff\xfe" + plain.read_text().encode("utf-16-le"))
    job = submitted(sqlite_stack, path, "SENR", "1964733")
    assert (job["status"], job["posted"]) == ("posted", 40), job


@pytest.mark.parametrize("fmt", ["fixed", "csv", "tab"])
def test_edfacts_files_post_whole_and_replace_the_previous(sqlite_stack: RunningStack,
                                                            tmp_path: Path, fmt: str) -> None:
    ext = {"fixed": "txt", "csv": "csv", "tab": "tab"}[fmt]
    path = sample(sqlite_stack, tmp_path / f"EULEADISCDATA{fmt[:3].upper()}.{ext}", "DISC-LEA",
                  "25", "--format", fmt, "--seed", "5")
    job = submitted(sqlite_stack, path, "DISC-LEA", "0000000")
    assert (job["status"], job["posted"]) == ("posted", 25), job
    assert job["standing"] == "active"


def test_an_edfacts_file_replaces_only_its_reporting_period(sqlite_stack: RunningStack,
                                                           tmp_path: Path) -> None:
    # design.md §2: "full replacement for the reporting period"; the period is in the header.
    def of_period(name: str, period: str, count: str) -> Path:
        path = sample(sqlite_stack, tmp_path / name, "DISC-SCH", count, "--seed", "41")
        text = path.read_text()
        path.write_text(text.replace(",2025-2026,", f",{period},", 1))
        return path

    first = submitted(sqlite_stack, of_period("EUSCHDISCDATAP1.csv", "2031 2032", "6"),
                      "DISC-SCH", "0000000")
    assert first["status"] == "posted" and "for 2031-2032" in first["message"], first
    other = submitted(sqlite_stack, of_period("EUSCHDISCDATAP2.csv", "2032-2033", "4"),
                      "DISC-SCH", "0000000")
    assert "for 2032-2033" in other["message"] and "replaced 0 records" in other["message"]
    again = submitted(sqlite_stack, of_period("EUSCHDISCDATAP3.csv", "2031-2032", "3"),
                      "DISC-SCH", "0000000")
    assert "replaced 6 records" in again["message"], again
    exported = sqlite_stack.edcs("export", "DISC-SCH", "--institution", "0000000").stdout
    assert len(exported.splitlines()) >= 3 + 4  # 2031-2032's new file and all of 2032-2033
    jobs = {j["id"]: j for j in (first, other, again)}
    standing = {i: json.loads(sqlite_stack.edcs("job", str(i), "--format", "json").stdout)
                ["standing"] for i in jobs}
    assert standing == {first["id"]: "archived", other["id"]: "active", again["id"]: "active"}


def test_edfacts_count_mismatch_rejects_the_file(sqlite_stack: RunningStack,
                                                 tmp_path: Path) -> None:
    path = sample(sqlite_stack, tmp_path / "EUSCHDISCDATAV9.csv", "DISC-SCH", "12")
    lines = path.read_text().splitlines()
    path.write_text("\r\n".join(lines[:-1]) + "\r\n")  # one record fewer than the header says
    job = submitted(sqlite_stack, path, "DISC-SCH", "0000000")
    assert job["status"] == "rejected"
    assert [(e["row"], e["code"]) for e in job["errors"]] == [(1, "record-count")]


def test_ode_ssid_zip_of_fixed_width_with_type_a_header(sqlite_stack: RunningStack,
                                                        tmp_path: Path) -> None:
    smf = sample(sqlite_stack, tmp_path / "ssid.smf", "ODE-SSID", "30", "--format", "fixed",
                 "--seed", "31")
    typed = tmp_path / "typea.smf"
    typed.write_text("CollectionName=ODE-SSID\r\nInstID=2180\r\n~~\r\n" + smf.read_text())
    path = tmp_path / "ssid.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(typed, "ssid.smf")
    job = submitted(sqlite_stack, path, "ODE-SSID", "2180")
    assert (job["status"], job["posted"]) == ("posted", 30), job
    assert "from a .zip" in str(job["history"])


def test_type_a_header_for_another_institution_is_refused_at_upload(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    csv = sample(sqlite_stack, tmp_path / "ssid.csv", "ODE-SSID", "3")
    path = tmp_path / "other.csv"
    path.write_text("CollectionName=ODE-SSID\r\nInstID=2181\r\n~~\r\n" + csv.read_text())
    job = submitted(sqlite_stack, path, "ODE-SSID", "2180")
    assert job["status"] == "rejected" and job["posted"] == 0
    assert "You do not have rights to submit this Institution ID" in job["errors"][0]["message"]


@pytest.mark.parametrize(("content", "code"), [
    (bytes(range(256)) * 4, "binary-file"),
    (b"PK\x05\x06" + bytes(18), "archive-members"),
])
def test_bad_archives_are_refused_at_upload(sqlite_stack: RunningStack, tmp_path: Path,
                                            content: bytes, code: str) -> None:
    path = tmp_path / "ssid.zip"
    path.write_bytes(content)
    job = submitted(sqlite_stack, path, "ODE-SSID", "2180")
    assert job["status"] == "rejected"
    assert [e["code"] for e in job["errors"]] == [code]
