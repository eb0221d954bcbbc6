"""Checked-in JSON Schemas of every event (``python -m shared.events.schemas`` rewrites them).

A test regenerates them and fails on any difference, so a change to an event's shape shows up
as a schema diff in review, and every example message is validated against its model.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from shared.events.models import (
    SCHEMA_VERSION,
    EndOfFile,
    FileReceived,
    RecordBatch,
    SubmissionStatus,
)

EVENTS: dict[str, type[BaseModel]] = {
    "file-received": FileReceived,
    "record-batch": RecordBatch,
    "end-of-file": EndOfFile,
    "submission-status": SubmissionStatus,
}
SCHEMA_DIR = Path(__file__).with_name("schemas")
EXAMPLE_DIR = Path(__file__).with_name("examples")


def schema_text(model: type[BaseModel]) -> str:
    """The schema of a model as it is checked in."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def schema_path(name: str) -> Path:
    """Where the schema of an event type is kept."""
    return SCHEMA_DIR / f"{name}.v{SCHEMA_VERSION}.schema.json"


def main() -> None:
    """Write every schema file."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, model in EVENTS.items():
        schema_path(name).write_text(schema_text(model), encoding="utf-8")


if __name__ == "__main__":
    main()
