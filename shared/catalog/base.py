"""Pieces every catalog model shares: the strict base, severities and one-field conditions."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for catalog models: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Severity(StrEnum):
    """How an issue affects the record and the file."""

    FATAL = "fatal"
    WARNING = "warning"


class Condition(Strict):
    """A condition on one field of the same record.

    Exactly one of ``in_`` (value is one of), ``between`` (value is a number from the first to
    the second bound, inclusive: a code range such as 7000-8999, or CCYYMMDD dates) or
    ``populated`` (value is / is not blank) is set.
    """

    field: str
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    between: tuple[float, float] | None = None
    populated: bool | None = None

    def holds(self, value: str) -> bool:
        """Whether the condition holds for this value of its field."""
        if self.in_ is not None:
            return value.strip() in self.in_
        if self.between is not None:
            return in_range(value, *self.between)
        return bool(value.strip()) is self.populated

    def said(self, title: str) -> str:
        """The condition in words, its field named by ``title``: for message templates."""
        if self.in_ is not None:
            return f"{title} is {either(self.in_)}"
        if self.between is not None:
            return f"{title} is from {self.between[0]:g} to {self.between[1]:g}"
        return f"{title} is {'populated' if self.populated else 'blank'}"

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if sum(t is not None for t in (self.in_, self.between, self.populated)) != 1:
            raise ValueError(f"condition on {self.field} needs exactly one of 'in', 'between', "
                             "'populated'")
        return self


def in_range(value: str, low: float, high: float) -> bool:
    """Whether ``value`` is a number from ``low`` to ``high`` (inclusive); blank is not."""
    try:
        number = float(value.strip())
    except ValueError:
        return False
    return low <= number <= high


def either(values: tuple[str, ...]) -> str:
    """``A``, ``A or B``, ``A, B or C``: values as a message says them ("" is blank)."""
    said = [v or "blank" for v in values]
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} or {said[-1]}"
