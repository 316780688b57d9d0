"""Contract fuzzing: every /api/v1 operation, fed generated valid and invalid requests by schemathesis,
answers without a server error, only with statuses its OpenAPI document names, and with bodies,
content types and headers that match it. The deep run is `python -m bench.faults.fuzz`."""

import re

import pytest

from directory.openapi import LINKS, PREFIX
from tests.contract import fuzzing

# Blueprints (OpenAPI tags): one test each, so that a failure names its area and the world of real
# objects is built once per area rather than once per operation.
TAGS = (
    "accounts_api",
    "catalog_api",
    "practitioners_api",
    "search_api",
    "credentials_api",
    "roster_api",
    "attestation_api",
    "reviews_api",
)
# Per operation and mode (positive, negative): about 2,000 requests, some 40 s on SQLite in all.
EXAMPLES = 25
# A sign-up's journey is four links deep (register, token, profile, public profile) and each step picks
# among some thirty rules: 10-step scenarios reached the token once in 25; 20-step ones, nine times.
SCENARIOS, STEPS = 25, 20


@pytest.mark.parametrize("tag", TAGS)
def test_operations_keep_their_contract(schema, world, tag):
    reports = fuzzing.fuzz(schema, world, EXAMPLES, tag)
    assert reports, f"no operation is tagged {tag}"
    for report in reports:
        assert report.examples["positive"] > 0, report.operation
        # A token of the fitting role gets each operation past authentication at least once.
        assert set(report.statuses) - {401, 403}, (report.operation, report.statuses)
    failures = [failure for report in reports for failure in report.distinct_failures()]
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(map(str, failures))


def test_real_ids_take_the_fuzzing_to_real_objects(schema, world):
    """Generated ids alone would only ever meet a 404; the world's real ones are found too."""
    reports = {report.operation: report for report in fuzzing.fuzz(schema, world, 10, "credentials_api")}
    assert reports["GET /api/v1/admin/credentials/{credential_id}"].statuses[200] > 0
    assert reports["GET /api/v1/me/credentials/{credential_id}/evidence/file"].statuses[200] > 0


def _rule_as_path(rule: str) -> str:
    """Werkzeug's `/x/<id:x_id>` as OpenAPI's `/x/{x_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented_and_tagged_for_fuzzing(app, schema):
    served = {
        (method, _rule_as_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        and not rule.rule.startswith((f"{PREFIX}/openapi", f"{PREFIX}/docs"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    operations = fuzzing.operations(schema)
    assert served == {(op.method.upper(), op.path) for op in operations}
    assert {tag for op in operations for tag in op.tags} == set(TAGS)


def test_links_take_a_new_account_from_sign_up_to_its_own_calls(app):
    """Stateful: schemathesis follows the document's links (sign up → token → …, profile → public
    profile, place → removal, credential → decision → attestation, review → edit, flag, answer)."""
    schema = fuzzing.load_schema(app)
    steps = fuzzing.run_stateful(schema, fuzzing.starting_over(app), SCENARIOS, STEPS)
    assert steps["POST /api/v1/auth/register", 202, "root"] > 0
    assert steps["POST /api/v1/auth/tokens", 201, "linked"] > 0
    assert steps["GET /api/v1/practitioners/{practitioner_id}", 200, "linked"] > 0


def test_every_link_names_a_documented_operation_and_status(schema):
    labels = {op.label for op in fuzzing.operations(schema)}
    for (method, path), by_status in LINKS.items():
        source = next(
            op for op in fuzzing.operations(schema) if op.label == f"{method.upper()} {PREFIX}{path}"
        )
        for status, links in by_status.items():
            assert status in source.definition.raw["responses"], (source.label, status)
            for name in links:
                assert name in source.definition.raw["responses"][status]["links"]
    assert fuzzing.linked_labels(schema) <= labels
