"""Checked-in JSON Schemas of every event (``python -m shared.events.schemas`` rewrites them).

A test regenerates them and fails on any difference, so a change to an event's shape shows up
as a schema diff in review, and every example message is validated against its model. Events
are pydantic models, except the record stream's msgspec structs (shared.events.models).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
from pydantic import BaseModel

from shared.events.models import (
    SCHEMA_VERSION,
    EndOfFile,
    FileReceived,
    RecordBatch,
    SubmissionStatus,
    decode_record_stream,
    encode,
)
from shared.issues import Issue

EventType = type[BaseModel] | type[RecordBatch] | type[EndOfFile]
EVENTS: dict[str, EventType] = {
    "file-received": FileReceived,
    "record-batch": RecordBatch,
    "end-of-file": EndOfFile,
    "submission-status": SubmissionStatus,
}
SCHEMA_DIR = Path(__file__).with_name("schemas")
EXAMPLE_DIR = Path(__file__).with_name("examples")


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic schema with its ``$defs`` inlined (to nest it in a msgspec one)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


def _schema_hook(kind: type) -> dict[str, Any]:
    if kind is Issue:
        return _inlined(Issue.model_json_schema())
    raise NotImplementedError(kind.__name__)


def json_schema(model: EventType) -> dict[str, Any]:
    """The JSON Schema of an event type."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema()
    return msgspec.json.schema(model, schema_hook=_schema_hook)


def schema_text(model: EventType) -> str:
    """The schema of a model as it is checked in."""
    return json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"


def version_of(model: EventType) -> int:
    """The version an event type is written with."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return SCHEMA_VERSION
    return int(next(f.default for f in msgspec.structs.fields(model) if f.name == "version"))


def schema_path(name: str) -> Path:
    """Where the schema of an event type is kept."""
    return SCHEMA_DIR / f"{name}.v{version_of(EVENTS[name])}.schema.json"


def round_trip(name: str, raw: bytes) -> bytes:
    """Decode an example message with its event type and encode it again."""
    model = EVENTS[name]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_validate_json(raw).model_dump_json().encode()
    event = decode_record_stream(raw)
    if not isinstance(event, model):
        raise ValueError(f"{name} decodes as {type(event).__name__}")
    return encode(event)


def main() -> None:
    """Write every schema file."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, model in EVENTS.items():
        schema_path(name).write_text(schema_text(model), encoding="utf-8")


if __name__ == "__main__":
    main()
