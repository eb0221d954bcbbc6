"""Downloads are safe to open and name: formula injection, file names, XML."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from urllib.parse import unquote
from xml.etree import ElementTree

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.web.formats import (
    _plain_page,  # the fast way, tested alone
    _plain_rows,  # the fast way of xml, tested alone
    cell,
    content_disposition,
    delimited,
    delimited_json,
    xml_document,
    xml_json,
)


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


_PLAIN = st.text(alphabet=st.sampled_from("ab1 -é中"), max_size=5)  # mostly written whole
_VALUE = st.one_of(
    _PLAIN, _PLAIN, _PLAIN,
    st.sampled_from(["", "SENR", "2025-2026", "-1", "+5", "=1+1", "@x", "a,b", 'q"', "a^b",
                     "x\\y", "\t=1", "\r", "a\nb", " lead", "[x]", "{}", "]\n[", "é中", ", "]),
    st.text(alphabet=st.sampled_from('ab1 -=+@,^"\\[]{}\t\r\n:é'), max_size=6))
_ROWS = st.lists(st.lists(_VALUE, min_size=1, max_size=5), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(_ROWS, st.sampled_from(["csv", "txt"]), st.booleans())
def test_rows_held_as_json_are_written_exactly_as_their_values_would_be(
        rows: list[list[str]], fmt: str, spaced: bool) -> None:
    """The store's JSON (as posting's json.dumps or msgspec writes it) gives the same bytes as
    the values themselves, whatever they hold, page by page."""
    held = [json.dumps(r, ensure_ascii=False) if spaced else msgspec.json.encode(r).decode()
            for r in rows]
    pages = [held[:2], held[2:]]
    assert "".join(delimited_json(pages, fmt, ["=h", "b"])) == "".join(
        delimited(rows, fmt, ["=h", "b"]))


@pytest.mark.parametrize("held", ['["a", null, "b"]', '["a", 1]', '["a",["b","c"],"d"]',
                                  '["a,b",{"k":"v"},"c"]', '["a" ,"b"]', '["a",\t"b"]',
                                  '["a",", b"]', '[""]', '["a"," b", "c"]', '[1]', '[]',
                                  '["]["]', '["a", ", ", "b"]', '[", "]', '[","]', '["a",","]',
                                  '["a", "][", "b"]', '[["a"]]', '["a", ["b"]]'])
@pytest.mark.parametrize("fmt", ["csv", "txt"])
def test_rows_that_are_not_flat_arrays_of_strings_are_written_value_by_value(
        held: str, fmt: str) -> None:
    """Such a row in the middle of a page, alone, or first: the page is written as csv.writer
    writes the values."""
    rows = [["x", "y"], json.loads(held), ["z", "w"]]
    for chosen in (rows, rows[1:2], rows[1:]):
        page = [held if row is rows[1] else json.dumps(row) for row in chosen]
        assert "".join(delimited_json([page], fmt)) == "".join(delimited(chosen, fmt))


@pytest.mark.parametrize("encode", [lambda r: json.dumps(r, ensure_ascii=False),
                                    lambda r: msgspec.json.encode(r).decode()])
def test_a_page_of_plain_values_is_rewritten_whole(encode: Callable[[list[str]], str]) -> None:
    """The fast way is taken for the values records hold nearly always (the speed of an
    export of a million records rests on it)."""
    rows = [["SENR", "", "265", "1964733", "2025-2026", "Zoë", "Los Angeles", "US-CA", ""],
            ["SENR", "", "861", "1964733", "2025-2026", "Lee", "O'Brien", "12", "中"]]
    page = [encode(r) for r in rows]
    assert _plain_page(page, ",") == "".join(delimited(rows, "csv"))
    assert _plain_page(page, "^") == "".join(delimited(rows, "txt"))


_XML_VALUE = st.one_of(_PLAIN, st.sampled_from(["", "a&b", "<x>", "a>b", 'q"', "%s", "100%",
                                                "\x01", "tab\t", "é中", "x\\y", "{}"]),
                       st.text(alphabet=st.sampled_from('ab%s&<>"\\\x00\x1f é'), max_size=6))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_XML_VALUE, min_size=3, max_size=3), min_size=1, max_size=6),
       st.booleans())
def test_xml_of_rows_held_as_json_is_the_xml_of_their_values(rows: list[list[str]],
                                                             spaced: bool) -> None:
    held = [json.dumps(r, ensure_ascii=False) if spaced else msgspec.json.encode(r).decode()
            for r in rows]
    names = ["a", "b_1", "c.d"]
    assert "".join(xml_json("records", "record", names, [held[:2], [], held[2:]],
                            {"collection": "A&B"})) == "".join(
        xml_document("records", "record", names, rows, {"collection": "A&B"}))


@pytest.mark.parametrize("held", ['["a", null, "b"]', '["a", 1, "b"]', '["a", "b"]',
                                  '["a", "b", "c", "d"]', '["a", ["b"], "c"]'])
def test_xml_rows_that_are_not_three_strings_are_written_value_by_value(held: str) -> None:
    rows = [["x", "y", "z"], json.loads(held)]
    page = [json.dumps(rows[0]), held]
    names = ["a", "b", "c"]
    assert _plain_rows(page, 3) is None
    if len(rows[1]) == 3:
        assert "".join(xml_json("r", "i", names, [page])) == "".join(
            xml_document("r", "i", names, rows))
    else:  # a row of another width is an error either way, never a shifted record
        with pytest.raises(ValueError, match="zip"):
            "".join(xml_json("r", "i", names, [page]))


def test_a_page_of_plain_values_is_written_as_xml_through_the_template() -> None:
    rows = [["SENR", "", "2025-2026", "Zoë", "O'Brien", "%s"], ["SENR", "x", "", "中", "-1", "%"]]
    page = [json.dumps(r, ensure_ascii=False) for r in rows]
    assert _plain_rows(page, 6) == rows
    text = "".join(xml_json("records", "record", list("abcdef"), [page]))
    root = ElementTree.fromstring(text)  # noqa: S314 - our own output
    assert [[e.text or "" for e in record] for record in root] == rows
