"""An API fuzz run (schemathesis) against the OpenAPI document: whatever a caller sends, the
API never answers 500. Bounded: a few examples per operation, as the operator (who may call
every operation) and as a district (whose scope refuses most).

Schemathesis' pytest plugin does not run on this pytest, so each operation's strategy is driven
by Hypothesis directly."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.fixtures.webapp import WebApp

pytestmark = pytest.mark.integration
EXAMPLES = 30


def test_no_operation_answers_a_server_error(webapp: WebApp) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", webapp.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            for caller in ("operator", "oregon"):
                response = case.call(headers=webapp.headers(caller))
                if response.status_code >= 500:
                    failures.append(f"{caller} {case.method} {case.formatted_path}: "
                                    f"{response.status_code} {response.text[:300]}")

        fuzz()
    assert failures == []
