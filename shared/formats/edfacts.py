"""The EDFacts ESS header record (seed 004 §4.1, §5.1) and the file-name rule (§3.1).

The header record is the first record of every file: file type, the number of data records
("the header record is NOT included in this count"), the file name (which "should be the same
as the external file name"), a file identifier, the reporting period and a filler ("Leave
filler field blank"). Its fields are in the
layout (``framing.header_record``). Intake checks the header record and the file name before
anything is read; the reader checks the count when the file has been read, and reports a
difference at the header row, on the field Total Records In File.

Delimited header records may end in extra delimiters ("Using EXCEL will produce extraneous
delimiters at the end of the header record. They will be disregarded").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from shared.catalog.models import FieldSpec, HeaderRecord, Layout, Severity
from shared.issues import Issue
from shared.reader import RawRecord

PERIOD = re.compile(r"([0-9]{4})[- ]([0-9]{4})")


def _issue(row: int | None, spec: FieldSpec | None, code: str, message: str) -> Issue:
    return Issue(row=row, field=spec.id if spec else None,
                 field_name=spec.title if spec else None, code=code,
                 severity=Severity.FATAL, message=message)


def header_values(header: HeaderRecord, line: str, delimiter: str | None) -> list[str] | None:
    """The header record's values in field order, or None when it has too many fields."""
    if delimiter is None:
        values, start = [], 0
        for spec in header.fields:
            values.append(line[start:start + spec.max_length].strip())
            start += spec.max_length
        return values
    values = [v.strip() for v in line.split(delimiter)]
    while len(values) > len(header.fields) and values[-1] == "":
        values.pop()  # Excel's trailing delimiters
    if len(values) > len(header.fields):
        return None
    return values + [""] * (len(header.fields) - len(values))


def reporting_period(layout: Layout, line: str, delimiter: str | None) -> str | None:
    """The File Reporting Period of a header record as CCYY-CCYY ("2010 2011" and "2010-2011"
    are one period), or None when the layout has none or the value is not a school year.
    A full replacement replaces the state's records of this period only (design.md §2)."""
    header = layout.framing.header_record
    if header is None:
        return None
    values = header_values(header, line, delimiter)
    if values is None:
        return None
    period = PERIOD.fullmatch(values[_roles(header)[header.period_field][0]])
    if period is None or int(period[2]) != int(period[1]) + 1:
        return None
    return f"{period[1]}-{period[2]}"


def _roles(header: HeaderRecord) -> dict[str, tuple[int, FieldSpec]]:
    return {spec.name: (i, spec) for i, spec in enumerate(header.fields)}


def check_header(layout: Layout, row: int, line: str, delimiter: str | None,
                 filename: str | None) -> list[Issue]:
    """Every problem of the header record, and of the file name against it."""
    header = layout.framing.header_record
    if header is None:
        return []
    values = header_values(header, line, delimiter)
    if values is None or values[0].upper() != header.file_type:
        return [_issue(row, header.fields[0], "header-record",
                       f"Row {row} must be the header record of a {header.file_type} file "
                       f"(File Type '{header.file_type}', then Total Records In File, File "
                       "Name, File Identifier and File Reporting Period).")]
    roles = _roles(header)
    problems: list[Issue] = []
    for spec, value in zip(header.fields, values, strict=True):
        if spec.required and not value:
            problems.append(_issue(row, spec, "header-record",
                                   f"{spec.title} in the header record (row {row}) is blank."))
        elif spec.allowed is not None and value not in spec.allowed:
            problems.append(_issue(row, spec, "header-record",
                                   f"{spec.title} in the header record (row {row}) must be "
                                   + ("blank." if spec.allowed == ("",) else
                                      "one of " + ", ".join(spec.allowed) + ".")))
    index, spec = roles[header.count_field]
    if values[index] and not values[index].isdigit():
        problems.append(_issue(row, spec, "header-record",
                               f"{spec.title} in the header record (row {row}) must be a "
                               f"number; it is '{values[index]}'."))
    index, spec = roles[header.period_field]
    period = PERIOD.fullmatch(values[index])
    if values[index] and (period is None or int(period[2]) != int(period[1]) + 1):
        problems.append(_issue(row, spec, "header-record",
                               f"{spec.title} in the header record (row {row}) must be a school "
                               f"year CCYY-CCYY or CCYY CCYY (e.g. 2010-2011); it is "
                               f"'{values[index]}'."))
    index, spec = roles[header.file_name_field]
    if filename is not None and values[index] and values[index].lower() != filename.lower():
        problems.append(_issue(row, spec, "file-name",
                               f"{spec.title} in the header record is '{values[index]}', but "
                               f"the file uploaded is named '{filename}'; they must be the "
                               "same."))
    return problems


def check_file_name(layout: Layout, filename: str | None,
                    delimiter: str | None = None) -> list[Issue]:
    """The file-name convention of the layout (EDFacts §3.1), if it has one, and the format its
    extension names (``delimiter`` None: fixed width)."""
    rule = layout.framing.file_name
    if rule is None or filename is None:
        return []
    if len(filename) > rule.max_length or not re.fullmatch(rule.pattern, filename,
                                                            re.IGNORECASE):
        return [_issue(None, None, "file-name",
                       f"The file name '{filename}' does not follow the naming convention: "
                       f"{rule.rule}")]
    ext = "." + filename.rsplit(".", 1)[-1].lower()
    named = rule.formats.get(ext)
    found = "fixed" if delimiter is None else delimiter
    if named is not None and named != found:
        words = {"fixed": "fixed width", ",": "comma-delimited", "\t": "tab-delimited"}
        return [_issue(None, None, "file-name",
                       f"The extension {ext} names a {words.get(named, named)} file, but the "
                       f"file is {words.get(found, found)}.")]
    return []


@dataclass
class RecordCount:
    """What the header record says the file holds (filled in by the reader)."""

    layout: Layout
    delimiter: str | None
    row: int | None = None
    declared: int | None = None

    def __call__(self, row: int, line: str) -> None:
        """The reader's header sink: keep the declared count."""
        header = self.layout.framing.header_record
        if header is None:
            return
        values = header_values(header, line, self.delimiter)
        self.row = row
        if values is not None:
            value = values[_roles(header)[header.count_field][0]]
            self.declared = int(value) if value.isdigit() else None

    def issue(self, counted: int) -> Issue | None:
        """The count problem, once the whole file has been read."""
        header = self.layout.framing.header_record
        if header is None or self.declared is None or self.declared == counted:
            return None
        spec = _roles(header)[header.count_field][1]
        return _issue(self.row, spec, "record-count",
                      f"The header record (row {self.row}) says the file has {self.declared} "
                      f"data records; it has {counted}.")


def counted(records: Iterator[RawRecord], count: RecordCount) -> Iterator[RawRecord]:
    """The records, with a count problem added to the last one (or, when the file has no data
    record at all, as a record of its own at the header row)."""
    last: RawRecord | None = None
    n = 0
    for record in records:
        if last is not None:
            yield last
        last, n = record, n + 1
    problem = count.issue(n)
    if problem is not None:
        if last is None:
            last = RawRecord(count.row or 1, None, [])
        last.issues.append(problem)
    if last is not None:
        yield last
