"""Encodings and bad bytes (issue 12): UTF-16 and BOMs read, everything else a located error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shared.catalog.loader import default_catalog
from shared.formats.text import UTF8, UTF16_BE, UTF16_LE, as_utf8, detect_encoding
from tests.unit.formats_support import check, located, senr_text
from tests.unit.senr_rows import senr_row


@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-8", b"\xef\xbb\xbf"),
    ("utf-16-le", b""), ("utf-16-be", b"")])
def test_utf16_and_boms_read_like_utf8(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = senr_text(3).replace("Maria", "Zoë")
    path = tmp_path / "senr.csv"
    path.write_bytes(bom + text.encode(encoding))
    report = check(path, "SENR")
    assert (report.records, located(report)) == (3, [])
    plain = tmp_path / "plain.csv"
    plain.write_bytes(text.encode())
    assert check(plain, "SENR").to_json() == report.to_json()


def test_encoding_is_detected_from_bom_or_nul_pattern() -> None:
    text = senr_text(1)
    assert detect_encoding(text.encode("utf-16-le")) == UTF16_LE
    assert detect_encoding(text.encode("utf-16-be")) == UTF16_BE
    assert detect_encoding(b"\xff\xfe" + text.encode("utf-16-le")) == UTF16_LE
    assert detect_encoding(text.encode()) == UTF8


def test_utf16_is_transcoded_in_chunks_across_boundaries() -> None:
    text = "é" * 700_000 + "\r\n"  # more than one chunk; 2-byte units straddle boundaries
    out = as_utf8(io.BytesIO(b"\xff\xfe" + text.encode("utf-16-le")), UTF16_LE).read()
    assert out.removeprefix(b"\xef\xbb\xbf").decode() == text


def test_latin1_is_an_error_at_its_row_and_byte(tmp_path: Path) -> None:
    row = ",".join(senr_row(student_legal_first_name="José"))
    path = tmp_path / "senr.csv"
    path.write_bytes(senr_text(1).encode() + row.encode("latin-1") + b"\r\n")
    report = check(path, "SENR")
    assert located(report) == [(2, None, "encoding")]
    byte = row.encode("latin-1").index(b"\xe9") + 1
    assert f"byte {byte} of the row, 0xE9" in report.issues[0].message
    assert "José" not in report.issues[0].message


def test_a_lone_surrogate_in_utf16_is_an_encoding_error_at_its_row(tmp_path: Path) -> None:
    good = senr_text(1).encode("utf-16-le")
    bad = ",".join(senr_row(student_legal_first_name="X")).encode("utf-16-le")
    bad = bad.replace("X".encode("utf-16-le"), b"\x00\xd8")  # a high surrogate alone
    path = tmp_path / "senr.csv"
    path.write_bytes(b"\xff\xfe" + good + bad + "\r\n".encode("utf-16-le"))
    assert located(check(path, "SENR")) == [(2, None, "encoding")]


def test_nul_byte_and_control_characters_are_located(tmp_path: Path) -> None:
    rows = [senr_row(local_record_id="1"), senr_row(student_birth_city="Los\x00Angeles"),
            senr_row(student_legal_last_name="Gar\x07cia", ssid="1000000001"),
            senr_row(student_birth_city="A\tB", ssid="2000000002")]
    path = tmp_path / "senr.csv"
    path.write_bytes("".join(",".join(r) + "\r\n" for r in rows).encode())
    report = check(path, "SENR")
    # The field's own rules still run on the rest of the record (its character set too).
    assert located(report) == [(2, None, "binary-content"),
                               (3, "Student Legal Last Name", "control-character"),
                               (3, "Student Legal Last Name", "invalid-characters"),
                               (4, "Student Birth City", "control-character"),
                               (4, "Student Birth City", "invalid-characters")]
    assert "Gar" not in report.issues[1].message  # a private field is never quoted
    assert "U+0007" in report.issues[1].message


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_files_are_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(content)
    report = check(path, "SENR")
    assert located(report) == [(None, None, "empty-file")]
    assert not report.accepted


def test_an_image_is_still_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    report = check(path, "SENR")
    assert located(report) == [(None, None, "binary-file")] and report.unreadable


def test_every_new_code_is_registered() -> None:
    codes = set(default_catalog().issue_types)
    assert {"control-character", "record-length", "header-record", "record-count", "file-name",
            "archive-too-large", "xml-forbidden", "type-a-institution"} <= codes


SSCE_HEADER = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"


@pytest.mark.parametrize("after", ["", "\r\n\r\n", "  \n"])
def test_a_header_row_with_no_records_is_empty_file(tmp_path: Path, after: str) -> None:
    """SSCE replaces the district's whole submission: a header with nothing under it must not
    post as an empty replacement (it was accepted by the pipeline and 'rejected' offline with
    no reason)."""
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + after)
    report = check(path, "SSCE")
    assert located(report) == [(None, None, "empty-file")]
    assert not report.accepted and "header row but no records" in report.issues[0].message


def test_a_header_row_with_one_record_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + "2026-2027,19647330130229,1234567890,A100,12,D\r\n")
    report = check(path, "SSCE")
    assert (report.records, located(report)) == (1, [])


def test_a_type_a_header_and_a_header_row_with_no_records_is_empty_file(tmp_path: Path) -> None:
    header = ",".join(f.name for f in default_catalog().layouts["ODE-SSID"].fields)
    path = tmp_path / "ssid.csv"
    path.write_text(f"CollectionName=ODE-SSID\nInstID=2180\n~~\n{header}\n")
    report = check(path, "ODE-SSID", institution_id="2180")
    assert located(report) == [(None, None, "empty-file")] and not report.accepted
