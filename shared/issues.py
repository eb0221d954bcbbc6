"""Issues: data problems as values (never exceptions), located by file, row and field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.catalog.models import Severity


class Issue(BaseModel):
    """One problem with a file or one of its records.

    ``row`` is the physical line number (1-based) or None for the file as a whole; ``field`` is
    the seed's field number and ``field_name`` its public name. Issues never carry the value of a
    field marked pii.
    """

    model_config = ConfigDict(frozen=True)

    row: int | None
    field: str | None
    field_name: str | None
    code: str
    severity: Severity
    message: str
    rule_id: str | None = None

    @property
    def fatal(self) -> bool:
        """Whether the issue rejects its record (and, in all-or-nothing collections, the file)."""
        return self.severity is Severity.FATAL

