"""Pydantic models of the catalog files: record layouts, code sets and issue codes.

The catalog is data (``layouts/*.yaml``, ``codesets/*.yaml``, ``issues.yaml``); only the small
vocabularies of field checks (below) and record-rule kinds (``rule_kinds.py``) are code
(``services/validate/rules``). Every model forbids unknown keys so a typo in a layout is a load
error, not a silently ignored rule.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from shared.catalog.base import Condition
from shared.catalog.base import Severity as Severity
from shared.catalog.base import Strict as Strict
from shared.catalog.rule_kinds import RecordRule


class FieldType(StrEnum):
    """CALPADS field types (CFS §1.1): character string, date CCYYMMDD, numeric."""

    CS = "CS"
    DT = "DT"
    NU = "NU"


class Charset(StrEnum):
    """Named character sets (CFS §5, rule IVR0009 and its narrower variant)."""

    NAME = "name"  # letters (accented allowed), digits, . - ' / space
    NAME_NARROW = "name-narrow"  # letters (accented allowed), digits, . - '


class FieldCheck(StrEnum):
    """Named single-field checks that are more than a length, code or pattern."""

    SSID = "ssid"  # 10 digits, first not 0, check digit (CFS 1.08, design.md §5)
    ACADEMIC_YEAR = "academic-year"  # CCYY-CCYY with consecutive years


class FieldSpec(Strict):
    """One positional field of a record layout."""

    id: str  # the seed's field number, e.g. "1.08"
    name: str  # snake_case identifier used in code and storage
    title: str  # the seed's public name, used in every message ("Student Legal First Name")
    type: FieldType = FieldType.CS
    date_format: Literal["CCYYMMDD", "MMDDCCYY"] = "CCYYMMDD"  # DT fields only
    max_length: int = Field(gt=0)
    required: bool = False
    codeset: str | None = None  # name of a codesets/<name>.yaml
    allowed: tuple[str, ...] | None = None  # explicit allowed values ("" allowed only if listed)
    charset: Charset | None = None
    pattern: str | None = None  # full-match regular expression
    checks: tuple[FieldCheck, ...] = ()
    pii: bool = False  # never copied into issues, logs or emails
    # Stored only as a keyed hash (shared.privacy): an SSN (design.md §6).
    hashed: bool = False
    spec_rule_ids: tuple[str, ...] = ()
    note: str | None = None  # transcription decisions, in prose


class Method(StrEnum):
    """CALPADS processing methods (CFS §1.3)."""

    TRANSACTION = "transaction"
    EFFECTIVE_DATE = "effective-date"
    REPLACEMENT = "replacement"


class Effect(Strict):
    """A change posting a record makes to stored records of another type, in the same
    transaction (CFS: e.g. program records end-dated when an enrollment exits, §3.3.2).

    ``end-date``: when the posted record meets ``when`` (and not ``unless``), every stored
    ``target`` record of the same group (the target's group key, read from the posted record's
    fields of the same names) that meets ``target_when`` and has ``field`` blank gets ``field``
    set to the posted record's ``value_from``.
    """

    id: str
    kind: Literal["end-date"]
    target: str
    when: Condition
    unless: Condition | None = None
    target_when: Condition | None = None
    field: str
    value_from: str
    source: str


class Matching(Strict):
    """How a layout's records are matched to SSIDs (design.md §5, shared.matching).

    ``fields`` maps each matching field (``shared.matching.person.FIELDS``) to the layout field
    that holds it; a matching field the layout does not have is left out (blank, never equal).
    """

    fields: dict[str, str]
    # Match every record (ODE-SSID: the submitted SSID is one more field to match on), or only
    # records whose SSID is blank (CALPADS SENR: a given SSID posts as it is).
    every_record: bool = False
    # A hard match moves the identity's current record to history and makes the submitted one
    # current (ODE-SSID); CALPADS SENR with a found SSID does not update demographics (§3.1.1).
    updates_identity: bool = False


class HeaderRecord(Strict):
    """A header record that leads every file of the layout (EDFacts ESS, seed 004 §4.1).

    ``fields`` are in file order; fixed-width files place them by their ``max_length`` from
    column 1, delimited files by position. The reader checks the named roles: the file type is
    ``file_type``, ``count_field`` holds the number of data records (checked against the file),
    ``file_name_field`` the external file name and ``period_field`` the reporting period.
    """

    file_type: str
    fields: tuple[FieldSpec, ...]
    count_field: str
    file_name_field: str
    period_field: str


class FileName(Strict):
    """A naming convention for the uploaded file (EDFacts §3.1): a full-match ``pattern``
    (case-insensitive) and a ``max_length``; ``rule`` says it in the seed's words."""

    pattern: str
    max_length: int = Field(gt=0)
    rule: str
    # The extension names the format: ".txt" -> "fixed", ".csv" -> ",", ".tab" -> a tab.
    formats: dict[str, str] = Field(default_factory=dict)


class Framing(Strict):
    """How records are written in a file of this layout.

    ``extensions`` are the upload file extensions the seed allows (lower case, with the dot);
    ``fixed_width`` is the record length of the fixed-width variant (fields placed by their
    ``max_length`` from column 1; the line ending follows), None when the layout has none.
    ``xml`` and ``xlsx`` allow those formats; ``type_a`` allows the Oregon Type A header lines
    (``CollectionName=``, ``InstID=``, ``~~``) before the data.
    """

    delimiters: tuple[str, ...] = (",", "^")
    header: bool = False
    extensions: tuple[str, ...] = (".csv", ".txt")
    fixed_width: int | None = Field(default=None, gt=0)
    header_record: HeaderRecord | None = None
    file_name: FileName | None = None
    xml: bool = False
    xlsx: bool = False
    type_a: bool = False


class RequiredWhenRepeated(Strict):
    """``field`` must be populated on every record of a file whose ``group`` values another
    record of the file repeats (a blank group value never repeats): CFS 1.09, two SENR records
    with one Local Student ID must each carry the SSID (``shared.within_file``)."""

    field: str
    group: tuple[str, ...] = Field(min_length=1)
    source: str  # where in the seed, e.g. "CFS Table 3-1, 1.09"


class Layout(Strict):
    """One record layout (one record type, one transcription revision).

    Keys, by processing method (CFS §1.3, design.md §4):
      - ``operational_key`` (CFS Table 1-1) is what batch posting matches stored records on.
        Transaction: one stored record. Replacement: the replacement key, a group of stored
        records replaced together (e.g. school + year). Effective Date: timeline + start date.
      - ``primary_key`` identifies one stored record; it defaults to the operational key.
      - ``replace_set`` (Transaction only): the first R of a set clears the set's stored records.
      - ``timeline_key`` (Effective Date only): whose timeline a record belongs to; records of one
        timeline never overlap, and end dates are derived from the next start date.
    """

    record_type: str
    title: str
    source: str  # e.g. "CALPADS File Specification v14.1, §3.1 Table 3-1"
    layout_version: int = 1
    method: Method
    operational_key: tuple[str, ...]
    primary_key: tuple[str, ...] = ()
    school_field: str | None = None  # partitioning key; records of one school stay in order
    lea_field: str | None = None  # must equal the submitting institution
    # Must be the academic year of the collection's window on the submission date
    # (shared.windows.collection_year; SSCE's academic_year).
    window_year_field: str | None = None
    # The LEA is the first ``lea_length`` characters of ``lea_field`` (e.g. a 14-digit CDS code).
    lea_length: int | None = None
    operation_field: str | None = None  # the transaction type field
    replace_set: tuple[str, ...] = ()
    timeline_key: tuple[str, ...] = ()
    effective_start_field: str | None = None
    effective_end_field: str | None = None  # derived on posting; a submitted value is not kept
    # A blank value in this field asks for SSID matching (design.md §5, ``matching``).
    match_field: str | None = None
    matching: Matching | None = None
    # Field groups that must not repeat within one file (checked when the whole file is there).
    unique_in_file: tuple[tuple[str, ...], ...] = ()
    # No two records of one file may have the same operational key (a blank part never
    # repeats); both rows are reported (shared.within_file).
    key_unique_in_file: bool = False
    # Fields that must be populated on the records whose group another record repeats.
    required_when_repeated: tuple[RequiredWhenRepeated, ...] = ()
    framing: Framing = Framing()
    fields: tuple[FieldSpec, ...]
    record_rules: tuple[RecordRule, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def row_key(self) -> tuple[str, ...]:
        """The fields that identify one stored record."""
        return self.primary_key or self.operational_key

    def positioned(self) -> dict[str, tuple[int, FieldSpec]]:
        """Each field by its name, with its position in the record."""
        return {f.name: (i, f) for i, f in enumerate(self.fields)}

    @property
    def hashed_fields(self) -> tuple[int, ...]:
        """Positions of the fields stored only as a keyed hash."""
        return tuple(i for i, f in enumerate(self.fields) if f.hashed)

    @property
    def group_key(self) -> tuple[str, ...]:
        """The fields of the group a record is posted with: its replace set, replacement key or
        timeline (empty when the method has none)."""
        if self.method is Method.REPLACEMENT:
            return self.operational_key
        if self.method is Method.EFFECTIVE_DATE:
            return self.timeline_key
        return self.replace_set

    @model_validator(mode="after")
    def _keys_of_method(self) -> Layout:
        effective = self.method is Method.EFFECTIVE_DATE
        if effective and not (self.timeline_key and self.effective_start_field):
            raise ValueError(f"layout {self.record_type}: the effective-date method needs "
                             "timeline_key and effective_start_field")
        if not effective and (self.timeline_key or self.effective_start_field
                              or self.effective_end_field):
            raise ValueError(f"layout {self.record_type}: timeline_key and effective dates "
                             "belong to the effective-date method only")
        if self.replace_set and self.method is not Method.TRANSACTION:
            raise ValueError(f"layout {self.record_type}: replace_set belongs to the "
                             "transaction method only")
        if self.matching is not None:
            names = {f.name for f in self.fields}
            unknown = sorted(set(self.matching.fields.values()) - names)
            if unknown or self.matching.fields.get("ssid") != self.match_field:
                raise ValueError(f"layout {self.record_type}: matching names fields it does "
                                 f"not have ({unknown}) or not its match_field as ssid")
        return self


class CodeSet(Strict):
    """A named set of codes.

    ``complete`` says whether the seeds list every value: an incomplete set is still enforced
    (a value outside it is an error) only when ``enforce`` is true, a decision recorded in ``note``.
    """

    name: str
    title: str
    source: str
    complete: bool
    enforce: bool = True
    values: dict[str, str]  # code -> meaning ("" where the seed gives none)
    note: str | None = None


class IssueType(Strict):
    """A stable issue code with its default severity and message template."""

    code: str
    severity: Severity
    title: str
    description: str


class Acceptance(StrEnum):
    """How a file's fatal issues affect what posts (design.md §2)."""

    ALL_OR_NOTHING = "all-or-nothing"
    VALID_RECORDS_POST = "valid-records-post"


class Posting(StrEnum):
    """What a posted file replaces (design.md §2)."""

    BY_METHOD = "by-method"  # each record as its layout's processing method says
    # Everything the institution holds in the collection goes; the file is the new whole, and
    # the previous submission becomes an archived one (SSCE).
    FULL_REPLACEMENT = "full-replacement"


class Collection(Strict):
    """A public collection code and what it means."""

    code: str
    title: str
    layout: str
    acceptance: Acceptance
    posting: Posting = Posting.BY_METHOD
