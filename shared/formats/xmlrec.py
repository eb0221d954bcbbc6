"""XML uploads (CALPADS CFS §1.2 and Appendix A; design.md §2 for ODE-SSID), streamed.

A file is a root element (CALPADS: ``<CALPADSRecords FileType="SENR">``) holding ``<Record>``
elements, each holding one element per field. The seed's Appendix A samples are not well-formed
XML (unclosed tags, spaces in names), so element names are derived from the layout: an element
is a field when its name, with everything but letters and digits dropped and case ignored,
equals the field's name or title likewise reduced (``ReportingLEA``, ``reportingLea`` and
``<reporting_lea>`` are Reporting LEA). ``<Filler/>`` elements fill the layout's fillers in
order. Values are the element's text with surrounding white space removed.

The parser is defusedxml's expat reader fed 1 MiB at a time: a DTD, an entity declaration or an
external reference stops the file (``xml-forbidden``; no entity is ever expanded and nothing is
fetched), and memory holds one record, never the document. Every error names the element path
(``/CALPADSRecords/Record[12]/SSID``); a record's row is the line of its ``<Record>`` tag.
"""

from __future__ import annotations

import re
import xml.sax
from collections.abc import Iterator
from typing import BinaryIO
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from shared.catalog.models import Layout, Severity
from shared.issues import Issue
from shared.reader import RawRecord

CHUNK = 1 << 20
MAX_VALUE_CHARS = 65_536  # as MAX_ROW_BYTES: far above any field; more is not held
MAX_DEPTH = 100  # elements nested inside a field before the document is given up
MAX_UNKNOWN_PER_RECORD = 10  # unknown elements reported per record (a record of a million
# stray elements is one record, not a million issues)
_WORD = re.compile(r"[^0-9a-z]")


def key_of(name: str) -> str:
    """An element or field name reduced to letters and digits, lower case."""
    return _WORD.sub("", name.lower())


def element_name(field_name: str) -> str:
    """The element edcs writes for a field: its name in PascalCase (``ReportingLea``); every
    filler is ``Filler``, as in the seed's samples."""
    if field_name.startswith("filler"):
        return "Filler"
    return "".join(part[:1].upper() + part[1:] for part in field_name.split("_"))


class _TooDeepError(Exception):
    """Elements nested far inside a field: the parser's own stack would grow with them."""


def _issue(row: int, code: str, message: str, severity: Severity = Severity.FATAL,
           field: tuple[str, str] | None = None) -> Issue:
    return Issue(row=row, field=field[0] if field else None,
                 field_name=field[1] if field else None, code=code, severity=severity,
                 message=message)


class _Records(ContentHandler):
    """Collects the records of the document as the parser reaches them."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.layout = layout
        self.index: dict[str, int] = {}
        self.fillers: list[int] = []
        for i, spec in enumerate(layout.fields):
            if spec.name.startswith("filler"):
                self.fillers.append(i)
            else:
                self.index.setdefault(key_of(spec.name), i)
                self.index.setdefault(key_of(spec.title), i)
        self.done: list[RawRecord] = []
        self.path: list[str] = []  # root, record, field: deeper elements are only counted
        self.deeper = 0
        self.count = 0
        self.locator: Locator | None = None  # the parser itself (read_xml)
        self._reset(0)

    def _reset(self, row: int) -> None:
        self.row = row
        self.values: list[str | None] = [None] * len(self.layout.fields)
        self.issues: list[Issue] = []
        self.text: list[str] = []
        self.text_chars = 0
        self.filler_seen = 0
        self.current: int | None = None
        self.nested = False  # an element inside a field was reported (once per record)
        self.unknown = 0
        self.too_long = False

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 - SAX's name
        self.locator = locator

    def line(self) -> int:
        """The parser's current line."""
        return (self.locator.getLineNumber() or 0) if self.locator is not None else 0

    def where(self) -> str:
        """The element path of the parser's position."""
        return "/" + "/".join(self.path)

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802
        depth = len(self.path)
        if depth == 1:
            self.count += 1
            self.path.append(f"{name}[{self.count}]")
            self._reset(self.line())
            if key_of(name) != "record":
                self.issues.append(_issue(self.row, "xml-structure",
                                          f"{self.where()}: expected a <Record> element."))
            return
        if depth > 2:  # inside a field: counted, not kept (a deep nest costs no memory)
            self.deeper += 1
            if self.deeper > MAX_DEPTH:
                raise _TooDeepError
            if not self.nested:  # reported once per record
                self.nested = True
                self.issues.append(_issue(
                    self.row, "xml-structure",
                    f"{self.where()}/{name}: a field element cannot hold elements."))
            return
        self.path.append(name)
        if depth == 2:
            self._field(name)

    def _field(self, name: str) -> None:
        key = key_of(name)
        self.text, self.text_chars = [], 0
        if ((key.startswith("filler") and key[6:].isdigit()) or key == "filler") and (
                self.filler_seen < len(self.fillers)):
            self.current = self.fillers[self.filler_seen]
            self.filler_seen += 1
            return
        self.current = self.index.get(key)
        if self.current is None:
            self.unknown += 1
            if self.unknown <= MAX_UNKNOWN_PER_RECORD:
                self.issues.append(_issue(self.row, "xml-unknown-element",
                                          f"{self.where()}: <{name}> is not a field of a "
                                          f"{self.layout.record_type} record."))
        elif self.values[self.current] is not None:
            spec = self.layout.fields[self.current]
            self.issues.append(_issue(self.row, "xml-repeated-element",
                                      f"{self.where()}: {spec.title} appears more than once "
                                      "in the record.", field=(spec.id, spec.title)))
            self.current = None

    def characters(self, content: str) -> None:
        if self.current is not None and len(self.path) == 3:
            self.text_chars += len(content)
            if self.text_chars <= MAX_VALUE_CHARS:
                self.text.append(content)
            elif not self.too_long:
                self.too_long = True
                spec = self.layout.fields[self.current]
                self.issues.append(_issue(
                    self.row, "row-too-long",
                    f"{self.where()}: the value of {spec.title} is longer than "
                    f"{MAX_VALUE_CHARS:,} characters (a {self.layout.record_type} field is far "
                    "shorter), so the record was not read. Look for a value pasted into a field "
                    "by mistake.", field=(spec.id, spec.title)))

    def endElement(self, name: str) -> None:  # noqa: N802
        if self.deeper:
            self.deeper -= 1
            return
        depth = len(self.path)
        if depth == 3 and self.current is not None:
            self.values[self.current] = "".join(self.text).strip()
            self.current = None
        elif depth == 2:
            self._finish()
        self.path.pop()

    def _finish(self) -> None:
        for i, spec in enumerate(self.layout.fields):
            if self.values[i] is None and not spec.name.startswith("filler"):
                self.issues.append(_issue(
                    self.row, "xml-missing-element",
                    f"{self.where()}: {spec.title} has no element (CALPADS: data elements with "
                    f"no value must be included, as <{element_name(spec.name)}/>); read as "
                    "blank.", Severity.WARNING, (spec.id, spec.title)))
        fields = [v or "" for v in self.values]
        broken = self.too_long or any(i.code == "xml-structure" for i in self.issues)
        self.done.append(RawRecord(self.row, None if broken else fields, self.issues))


def read_xml(stream: BinaryIO, layout: Layout) -> Iterator[RawRecord]:
    """Every record of the document; a document error ends it with a record at its line."""
    handler = _Records(layout)
    parser = create_parser()  # forbid_dtd, forbid_entities, forbid_external
    parser.forbid_dtd = True
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setContentHandler(handler)
    handler.locator = parser  # fed incrementally, expat never hands the handler its locator
    try:
        while chunk := stream.read(CHUNK):
            parser.feed(chunk)
            yield from handler.done
            handler.done.clear()
        parser.close()
    except DefusedXmlException as exc:
        yield from handler.done
        yield RawRecord(handler.line() or 1, None, [_issue(
            handler.line() or 1, "xml-forbidden",
            f"{handler.where()}: the XML declares a DTD or entities, or refers to another "
            f"file ({type(exc).__name__}); edcs reads plain XML only.")])
        return
    except _TooDeepError:
        yield from handler.done
        yield RawRecord(handler.row or 1, None, [_issue(
            handler.row or 1, "xml-structure",
            f"{handler.where()}: elements are nested more than {MAX_DEPTH} deep inside a field; "
            "nothing after it was read.")])
        return
    except xml.sax.SAXParseException as exc:
        yield from handler.done
        line = int(exc.getLineNumber() or 1)
        yield RawRecord(line, None, [_issue(
            line, "xml-malformed",
            f"{handler.where()}: the XML is not well-formed at line {line}, column "
            f"{(exc.getColumnNumber() or 0) + 1} ({exc.getMessage()}); nothing after it was "
            "read.")])
        return
    yield from handler.done
