"""A layout's record as the person matching compares (the layout's ``matching`` fields)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.catalog.models import Layout
from shared.issues import Issue
from shared.matching.normalise import ccyymmdd_date, mmddyyyy_date
from shared.matching.person import FIELDS, HASH_PREFIX, Person, Reader


class PersonReader:
    """Reads the matching fields of one layout's records."""

    def __init__(self, layout: Layout, ssn_key: bytes, required: tuple[str, ...] = ()) -> None:
        spec = layout.matching
        if spec is None:
            raise ValueError(f"{layout.record_type} is not matched")
        names = [f.name for f in layout.fields]
        self._index = [names.index(spec.fields[f]) if f in spec.fields else None
                       for f in FIELDS]
        dob = next(f for f in layout.fields if f.name == spec.fields["dob"])
        parse = mmddyyyy_date if dob.date_format == "MMDDCCYY" else ccyymmdd_date
        self._reader = Reader(ssn_key, date=parse, required=required)
        self._ssid = names.index(spec.fields["ssid"])

    def private(self, fields: Sequence[str], person: Person) -> list[str]:
        """The record as the registry keeps it: its SSN replaced by the keyed hash."""
        kept = list(fields)
        at = self._index[FIELDS.index("ssn")]
        if at is not None:
            kept[at] = HASH_PREFIX + person.ssn if person.ssn else ""
        return kept

    def ssid(self, fields: Sequence[str]) -> str:
        """The record's SSID as posted."""
        return fields[self._ssid].strip()

    def person(self, fields: Sequence[str]) -> Person:
        """The record's person (values matching cannot use are blank)."""
        return self.read(fields)[0]

    def read(self, fields: Sequence[str], row: int | None = None
             ) -> tuple[Person, list[Issue]]:
        """The record's person and the matching values it could not use."""
        values = [fields[i] if i is not None else "" for i in self._index]
        return self._reader.read(values, row)
