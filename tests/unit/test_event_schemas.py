"""Event contracts: checked-in schemas match the models; every example message decodes."""

from __future__ import annotations

import json

import pytest

from shared.events.schemas import EVENTS, EXAMPLE_DIR, schema_path, schema_text


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_checked_in_schema_matches_the_model(name: str) -> None:
    assert schema_path(name).read_text(encoding="utf-8") == schema_text(EVENTS[name]), (
        "event model changed: run `python -m shared.events.schemas` and review the diff")


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_example_message_decodes_with_its_model(name: str) -> None:
    raw = (EXAMPLE_DIR / f"{name}.json").read_bytes()
    event = EVENTS[name].model_validate_json(raw)
    assert json.loads(event.model_dump_json()) == json.loads(raw)


def test_an_unknown_key_is_rejected() -> None:
    raw = json.loads((EXAMPLE_DIR / "end-of-file.json").read_bytes())
    raw["student_name"] = "x"
    with pytest.raises(ValueError, match="student_name"):
        EVENTS["end-of-file"].model_validate(raw)
