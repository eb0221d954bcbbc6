"""``.zip`` uploads (issue 12): one data file streamed out; everything else refused by code."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from tests.unit.formats_support import ODE_HEADER, check, located, ode_row

CSV = (ODE_HEADER + "\r\n" + ",".join(ode_row()) + "\r\n"
       + ",".join(ode_row(legal_first="Ana", district_student_id="S101")) + "\r\n")


def zipped(path: Path, members: dict[str, bytes],
           method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_one_member_is_read_like_the_file_itself(tmp_path: Path) -> None:
    plain = tmp_path / "ssid.csv"
    plain.write_text(CSV)
    report = check(zipped(tmp_path / "ssid.zip", {"ssid.csv": CSV.encode()}), "ODE-SSID")
    assert (report.records, located(report)) == (2, [])
    assert report.to_json() == check(plain, "ODE-SSID").to_json()


def test_folders_and_mac_entries_are_not_members(tmp_path: Path) -> None:
    path = zipped(tmp_path / "ssid.zip", {"data/": b"", "data/ssid.csv": CSV.encode(),
                                          "__MACOSX/data/._ssid.csv": b"\x00\x05"})
    assert located(check(path, "ODE-SSID")) == []


def test_a_utf16_member_is_transcoded(tmp_path: Path) -> None:
    data = b"\xff\xfe" + CSV.encode("utf-16-le")
    report = check(zipped(tmp_path / "ssid.zip", {"ssid.csv": data}), "ODE-SSID")
    assert (report.records, located(report)) == (2, [])


@pytest.mark.parametrize(("members", "code"), [
    ({"a.csv": CSV.encode(), "b.csv": CSV.encode()}, "archive-members"),
    ({}, "archive-members"),
    ({"inner.zip": b"PK\x05\x06" + bytes(18)}, "archive-nested"),
    ({"ssid.csv": b"\x1f\x8b\x08\x00" + bytes(16)}, "archive-nested"),  # gzip, any name
])
def test_refused_archives(tmp_path: Path, members: dict[str, bytes], code: str) -> None:
    report = check(zipped(tmp_path / "ssid.zip", members), "ODE-SSID")
    assert located(report) == [(None, None, code)]
    assert report.unreadable and not report.accepted


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    path = zipped(tmp_path / "ssid.zip", {"ssid.csv": CSV.encode()}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the encrypted bit
        at = data.index(signature)
        data[at + flag_at] |= 0x01
    path.write_bytes(bytes(data))
    assert located(check(path, "ODE-SSID")) == [(None, None, "archive-encrypted")]


def test_a_declared_size_over_the_bound_is_refused_unread(tmp_path: Path) -> None:
    path = zipped(tmp_path / "ssid.zip", {"ssid.csv": CSV.encode() * 100})
    report = check(path, "ODE-SSID", max_unpacked=1000)
    assert located(report) == [(None, None, "archive-too-large")]


def test_a_bomb_that_lies_about_its_size_stops_at_the_bound(tmp_path: Path) -> None:
    body = (",".join(ode_row()) + "\r\n").encode() * 50_000  # ~2.5 MB, compresses to little
    path = zipped(tmp_path / "bomb.zip", {"ssid.csv": ODE_HEADER.encode() + b"\r\n" + body})
    data = bytearray(path.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # declare 100 bytes
        at = data.index(signature)
        data[at + size_at:at + size_at + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(data))
    report = check(path, "ODE-SSID", max_unpacked=200_000)
    codes = [code for _, _, code in located(report)]
    assert codes[-1] in ("archive-too-large", "archive-unreadable")
    assert report.records < 5_000  # stopped at the bound, not unpacked whole
    assert not report.accepted


def test_a_damaged_archive_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "ssid.zip"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    assert located(check(path, "ODE-SSID")) == [(None, None, "archive-unreadable")]


def test_a_zip_where_the_seed_allows_none_is_refused(tmp_path: Path) -> None:
    path = zipped(tmp_path / "senr.zip", {"senr.csv": b"SENR"})
    report = check(path, "SENR")
    assert located(report) == [(None, None, "unsupported-format")]


def test_the_member_is_streamed_not_read_whole(tmp_path: Path) -> None:
    from shared.formats.archive import open_member

    path = zipped(tmp_path / "ssid.zip", {"ssid.csv": CSV.encode() * 1000})
    with path.open("rb") as fh:
        member, name, problems = open_member(fh, 10_000_000)
        assert member is not None and name == "ssid.csv" and problems == []
        assert len(member.read(100)) == 100  # a read returns what was asked, no more
        member.close()
