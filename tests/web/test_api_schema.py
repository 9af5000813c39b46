"""Property-based run of the JSON API against its own OpenAPI document (schemathesis).

Every generated request — schema-valid and schema-violating alike — must get an answer that
is not a 5xx and that matches the document: listed status codes, JSON bodies valid against
their schemas. (schemathesis' pytest plugin does not load under pytest 9, so the operations
are walked here with Hypothesis directly.)
"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.web.conftest import post
from tests.web.test_manager import book_top_slot

EXAMPLES_PER_OPERATION = 25
# Schema-valid input may still break a rule the document cannot express (an unknown IANA
# zone, a due date before the session, fewer than three action items): those are 422s.
BUSINESS_RULES = checks.positive_data_acceptance


def test_the_api_keeps_to_its_document(app, client, make_org):
    org = make_org(client)
    book_top_slot(client, org.rep_ids[0])
    page = post(client, "/admin/api-tokens", {"name": "fuzz"}, page="/admin/api-tokens").text
    token = re.search(r'id="issued-token" readonly value="([^"]+)"', page).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def keeps_to_the_document(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers=headers, excluded_checks=[BUSINESS_RULES])

            keeps_to_the_document()
