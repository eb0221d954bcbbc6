"""XML uploads (CALPADS Appendix A, ODE-SSID): hardened, streamed, errors with element paths."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from shared.catalog.loader import default_catalog
from shared.formats.xmlrec import element_name
from tests.unit.formats_support import check, located
from tests.unit.senr_rows import senr_row

SENR = default_catalog().layouts["SENR"]


def record(values: list[str], skip: str | None = None, extra: str = "") -> str:
    cells = "".join(f"<{element_name(f.name)}>{escape(v)}</{element_name(f.name)}>"
                    for f, v in zip(SENR.fields, values, strict=True) if f.name != skip)
    return f"  <Record>{cells}{extra}</Record>\n"


def document(*records: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<CALPADSRecords FileType="SENR">\n{"".join(records)}</CALPADSRecords>\n').encode()


def test_records_are_read_and_rows_are_the_record_lines(tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row(local_record_id="1")),
                              record(senr_row(local_record_id="2", ssid="1234567899"))))
    report = check(path, "SENR")
    assert report.records == 2
    assert located(report) == [(4, "SSID", "ssid-check-digit")]  # line 4: the second <Record>


def test_element_names_ignore_case_and_punctuation_and_values_are_trimmed(
        tmp_path: Path) -> None:
    xml = record(senr_row()).replace("<ReportingLea>", "<ReportingLEA>").replace(
        "</ReportingLea>", "</ReportingLEA>").replace("<RecordTypeCode>SENR",
                                                      "<record_type_code> SENR ").replace(
        "</RecordTypeCode>", "</record_type_code>")
    path = tmp_path / "senr.xml"
    path.write_bytes(document(xml))
    assert located(check(path, "SENR")) == []


def test_utf16_xml_is_read(tmp_path: Path) -> None:
    text = document(record(senr_row())).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "senr.xml"
    path.write_bytes(text.encode("utf-16"))
    report = check(path, "SENR")
    assert (report.records, located(report)) == (1, [])


def test_unknown_missing_and_repeated_elements(tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(
        record(senr_row(), extra="<Nickname>Mo</Nickname>"),
        record(senr_row(ssid="1000000001"), skip="student_birth_city"),
        record(senr_row(ssid="2000000002"), extra="<SSID>2000000002</SSID>")))
    report = check(path, "SENR")
    assert located(report) == [(3, None, "xml-unknown-element"),
                               (4, "Student Birth City", "xml-missing-element"),
                               (5, "SSID", "xml-repeated-element")]
    assert "/CALPADSRecords/Record[1]/Nickname" in report.issues[0].message
    assert not report.issues[1].fatal


def test_malformed_xml_names_line_and_path_and_keeps_earlier_records(tmp_path: Path) -> None:
    bad = record(senr_row()).replace("</Ssid>", "</SSlD>")  # a mistyped closing tag
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row()), bad))
    report = check(path, "SENR")
    assert located(report) == [(4, None, "xml-malformed")]
    assert report.records == 2 and "/CALPADSRecords/Record[2]/Ssid" in report.issues[0].message


def test_the_seeds_own_sample_is_malformed_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "scte.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?><CALPADSRecords FileType="SCTE">'
                     b"<Record><RecordTypeCode>SCTE</RecordTypeCode><CTEPathwayCode>100"
                     b"<CTEPathwayCode></Record></CALPADSRecords>")
    codes = [c for _, _, c in located(check(path, "SCTE"))]
    assert codes[-1] == "xml-malformed"


def test_entity_expansion_bomb_is_refused_unexpanded(tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    prolog = f'<!DOCTYPE r [<!ENTITY l0 "lol">{lol}]>\n'
    path = tmp_path / "bomb.xml"
    path.write_bytes(document(record(senr_row()).replace("Maria", "&l9;"), prolog=prolog))
    report = check(path, "SENR")
    assert located(report) == [(2, None, "xml-forbidden")] and report.unreadable


def test_external_entities_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    prolog = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>\n'
    path = tmp_path / "xxe.xml"
    path.write_bytes(document(record(senr_row()).replace("Maria", "&x;"), prolog=prolog))
    report = check(path, "SENR")
    assert [c for _, _, c in located(report)] == ["xml-forbidden"]
    assert "TOP-SECRET" not in str(report.to_json())


def test_xml_where_the_layout_takes_none_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_bytes(b"<?xml version='1.0'?><Records/>")
    assert located(check(path, "SSCE")) == [(None, None, "unsupported-format")]


def test_fields_may_not_hold_elements(tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row()).replace("<Ssid>", "<Ssid><b/>")))
    assert [c for _, _, c in located(check(path, "SENR"))] == ["xml-structure"]


def test_an_xml_export_reads_back_as_an_upload(tmp_path: Path) -> None:
    from services.web.formats import xml_document, xml_name

    rows = [senr_row(local_record_id=str(n), enrollment_start_date=f"2025080{n}") for n in (1, 2)]
    names = [xml_name(f.name) for f in SENR.fields]
    path = tmp_path / "export.xml"
    path.write_text("".join(xml_document("records", "record", names, rows)))
    report = check(path, "SENR")
    assert (report.records, located(report)) == (2, [])


def test_a_deep_nest_inside_a_field_is_one_error_in_bounded_memory(tmp_path: Path) -> None:
    """Found in the new-user trial: 200,000 nested elements (a 1.4 MB file) made one issue per
    element, each naming the whole path, and used 13 GB. Now the document stops at a depth."""
    path = tmp_path / "senr.xml"
    nest = "<a>" * 200_000 + "</a>" * 200_000
    path.write_bytes(document(record(senr_row()),
                              record(senr_row(local_record_id="2")).replace(
                                  "<Ssid>", f"<Ssid>{nest}")))
    report = check(path, "SENR")
    assert located(report) == [(4, None, "xml-structure")]  # the second record, line 4
    assert "nested more than" in report.issues[0].message and len(report.issues[0].message) < 300


def test_a_shallow_nest_inside_a_field_is_reported_once_and_the_file_read_on(
        tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row()).replace("<Ssid>", "<Ssid><b><c/><c/></b>"),
                              record(senr_row(local_record_id="2", ssid="1234567899"))))
    assert located(check(path, "SENR")) == [(3, None, "xml-structure"),
                                            (4, "SSID", "ssid-check-digit")]


def test_many_unknown_elements_in_a_record_are_reported_ten_times(tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row(), extra="<Stray/>" * 50_000)))
    assert [c for _, _, c in located(check(path, "SENR"))] == ["xml-unknown-element"] * 10


def test_an_enormous_value_is_row_too_long_at_its_field_and_not_held(tmp_path: Path) -> None:
    path = tmp_path / "senr.xml"
    path.write_bytes(document(record(senr_row(student_birth_city="x" * 5_000_000)),
                              record(senr_row(local_record_id="2"))))
    report = check(path, "SENR")
    assert located(report) == [(3, "Student Birth City", "row-too-long")]
    assert report.records == 2 and "xxxx" not in report.issues[0].message
