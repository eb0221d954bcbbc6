"""Downloads are safe to open and name: formula injection, file names, XML."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest

from services.web.formats import cell, content_disposition, delimited, xml_document


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-1", "-1"), ("+5", "+5"), ("-0.5", "-0.5"), ("a=1", "a=1"), ("", ""), ("Smith", "Smith"),
])
def test_cells_that_a_spreadsheet_would_run_are_written_as_text(value: str,
                                                                 written: str) -> None:
    assert cell(value) == written


def test_every_cell_of_a_delimited_download_is_neutralised() -> None:
    text = "".join(delimited([["=1+1", "ok"], ["@x", "-1"]], "csv", ["=h", "b"]))
    assert list(csv.reader(io.StringIO(text))) == [["'=h", "b"], ["'=1+1", "ok"],
                                                   ["'@x", "-1"]]
    assert text.endswith("\r\n")
    caret = "".join(delimited([["=1", "x"]], "txt"))
    assert caret == "'=1^x\r\n"


@pytest.mark.parametrize("name", ["unié中.csv", 'a"b.csv', "a\\b;c.csv", "plain.csv",
                                  "new\r\nline.csv"])
def test_a_download_keeps_its_name_in_every_browser(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    fallback, _, encoded = header.partition("; filename*=UTF-8''")
    assert fallback.startswith('attachment; filename="') and fallback.count('"') == 2
    assert unquote(encoded) == name


def test_xml_downloads_escape_text_and_drop_what_xml_cannot_hold() -> None:
    text = "".join(xml_document("records", "record", ["a", "b"],
                                [["<x>&", 'q"\x01']], {"collection": "A&B"}))
    root = ElementTree.fromstring(text)  # noqa: S314 - our own output
    assert root.attrib["collection"] == "A&B"
    assert [(e.tag, e.text) for e in root[0]] == [("a", "<x>&"), ("b", 'q"')]
