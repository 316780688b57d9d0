"""Contract fuzzing of /api/v1 with schemathesis, in-process (WSGI, no sockets).

Shared by tests/contract (a bounded number of examples) and `python -m bench.faults.fuzz` (a deep run).
Each operation gets positive and negative data under Hypothesis, sent with the bearer token of a
fitting role, of another one, or none, with path ids that are sometimes real objects (world.py).
Failures are collected rather than raised, so that one run reports every distinct one. The
stateful run follows the document's OpenAPI links (directory/openapi.py) from call to call.
"""

import contextlib
import itertools
import random
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from unittest import mock

import hypothesis
import jsonschema_rs
import schemathesis
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from directory.extensions import db
from tests import dbreset
from tests.contract.world import PNG, ROLES, World, build_world, fitting_role

SPEC_PATH = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
REGISTER = "POST /api/v1/auth/register"
SUBMIT = "POST /api/v1/me/credentials"
SAVE_PROFILE = "PUT /api/v1/me/profile"
ROSTER_IMPORT = "POST /api/v1/admin/issuers/{slug}/roster"
FILE_PARTS = {
    SUBMIT: "evidence",
    "POST /api/v1/me/credentials/{credential_id}/evidence": "evidence",
    ROSTER_IMPORT: "file",
}
REALISTIC = {REGISTER, SAVE_PROFILE, *FILE_PARTS}
ROSTER = b"number,name,status,expires_on\nCMT-1002,Casey Lin,active,2035-06-01\nCMT-9999,Pat Roe,inactive,\n"
# Werkzeug then reads each answer whole and closes it: a streamed evidence file is not left open.
CALL = {"buffered": True}
# Hypothesis seeds the global `random` alike for every example, and Whoosh names its index segments
# from it: reseeded from this counter, two examples' segments never take one name.
_SEEDS = itertools.count(1)
_EMAILS = itertools.count(1)


def settings(examples: int, **extra) -> hypothesis.settings:
    """Deterministic and quiet: a fixed derandomized search, no example database in the repository."""
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        **extra,
    )


@dataclass
class Failure:
    operation: str
    mode: str
    role: str
    title: str
    status: int | None
    reproduce: str

    @property
    def key(self) -> tuple:
        return (self.operation, self.title, self.status)

    def __str__(self) -> str:
        return f"{self.operation} [{self.mode}, {self.role}] -> {self.status}: {self.title}\n{self.reproduce}"


@dataclass
class OperationReport:
    operation: str
    examples: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    def distinct_failures(self) -> list[Failure]:
        seen: dict[tuple, Failure] = {}
        for failure in self.failures:
            seen.setdefault(failure.key, failure)
        return list(seen.values())


def contract_spec(app) -> dict:
    """The served document minus its catch-all `default` response: every status an operation can
    answer must be named, or the status-code check could never fail."""
    response = app.test_client().get(SPEC_PATH)
    assert response.status_code == 200, response.get_data(as_text=True)
    spec = response.get_json()
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)
    return spec


def realistic(label: str, body: dict, vocabulary: dict, fits) -> dict:
    """The same body with values the service's own rules accept (a fresh email, a known issuer, a
    real PNG, past dates, known slugs) where the generated value is one the document allows
    (`fits(name, value)`): the document cannot say "a slug from /vocabulary", and a random one only
    ever meets the 422. A value the document forbids is left alone: a negative case stays negative."""
    body = dict(body)

    def swap(name: str, value) -> None:
        if name in body and fits(name, body[name]):
            body[name] = value

    if label == REGISTER:
        swap("email", f"fuzz{next(_EMAILS)}@example.org")
    part = FILE_PARTS.get(label)
    if part and isinstance(body.get(part), bytes | str):  # any bytes are a binary part
        body[part] = ROSTER if label == ROSTER_IMPORT else PNG
    if label == SUBMIT:
        swap("issuer", "camtc")
        swap("issued_on", "2015-06-01")
        swap("expires_on", "2035-06-01")
        swap("techniques", [])  # only a training program's certificate may name techniques
    if label == SAVE_PROFILE:
        for name in ("techniques", "conditions", "client_groups"):
            if name in body and fits(name, body[name]):
                body[name] = vocabulary[name][: len(body[name])]
        swap("practicing_since", 2012)
    return body


def body_validators(spec: dict, operation) -> dict:
    """Per body property, a validator of the document's own schema for it (formats checked)."""
    for media in operation.definition.raw.get("requestBody", {}).get("content", {}).values():
        schema = media["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return {
            name: jsonschema_rs.validator_for(
                {**prop, "components": spec["components"]}, validate_formats=True
            )
            for name, prop in schema.get("properties", {}).items()
        }
    return {}


def load_schema(app):
    spec = contract_spec(app)
    schema = schemathesis.openapi.from_dict(spec, config=schemathesis.Config())
    schema.app = app
    listed = app.test_client().get("/api/v1/vocabulary").get_json()
    vocabulary = {name: [term["slug"] for term in terms] for name, terms in listed.items()}
    validators = {op.label: body_validators(spec, op) for op in operations(schema) if op.label in REALISTIC}

    @schema.hook
    def flatmap_body(context, body):
        # Half the bodies as generated, half made realistic: both the 422s and what lies past them.
        label = context.operation.label
        if label not in REALISTIC or not isinstance(body, dict):
            return st.just(body)
        known = validators[label]

        def fits(name, value) -> bool:
            return name in known and known[name].is_valid(value)

        return st.sampled_from([body, realistic(label, body, vocabulary, fits)])

    return schema


def operations(schema, tag: str | None = None) -> list:
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if tag is None or tag in (op.tags or [])]


def role_strategy(operation) -> st.SearchStrategy[str | None]:
    if not operation.definition.raw.get("security"):
        return st.just(None)
    fitting = fitting_role(operation.path)
    return st.sampled_from([fitting, fitting, fitting, None, *ROLES])


def _record(report: OperationReport, operation, mode: str, role, status, title: str, detail: str) -> None:
    report.failures.append(Failure(operation.label, mode, role or "anonymous", title, status, detail))


def fuzz_operation(
    operation, world: World, examples: int, mode: GenerationMode, report: OperationReport
) -> None:
    """Send `examples` generated cases of one mode to one operation, recording every failed check."""
    path_names = [p.name for p in operation.path_parameters]

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(examples, phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    def run(case, data):
        random.seed(next(_SEEDS))
        role = data.draw(role_strategy(operation), label="role")
        if mode is GenerationMode.NEGATIVE and operation.schema.is_security_param_negated(case):
            role = None  # the case is a missing or broken token: send it as generated
        if mode is GenerationMode.POSITIVE:
            # A negative case keeps its bad path value; a positive one sometimes names a real object.
            # Real ids come first, as the fitting role does (role_strategy): Hypothesis always runs
            # the case of every first choice (no optional parameter, the fitting role, the first real
            # id) before any random one, so each operation meets a real object at least once however
            # the random cases fall. They fall differently from one pytest run to another: Hypothesis
            # draws some values from constants in whichever project modules are imported by then.
            for name in path_names:
                real = data.draw(st.sampled_from([*world.ids.get(name, []), None]), label=name)
                if real is not None:
                    case.path_parameters[name] = real
        headers = world.headers(role, operation)
        report.examples[mode.value] += 1
        status = None
        try:
            response = case.call(headers=headers, **CALL)
            status = response.status_code
            report.statuses[status] += 1
            sent = {"headers": headers, **CALL} if headers else CALL
            case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=sent)
        except FailureGroup as group:
            reproduce = case.as_curl_command(headers=headers)
            for failure in group.exceptions:
                _record(
                    report,
                    operation,
                    mode.value,
                    role,
                    status,
                    failure.title,
                    f"{failure.message}\n{reproduce}",
                )
        except Exception as exc:  # escaped the app: a client would have had a 500
            where = "".join(traceback.format_exception(exc)[-6:])
            detail = f"{where}\nbody: {case.body!r}\n{case.as_curl_command(headers=headers)}"
            _record(
                report, operation, mode.value, role, 500, f"Server exception: {type(exc).__name__}", detail
            )

    # Nothing to negate (no parameters, no body) means no negative case exists.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()
    world.renew()


def fuzz(schema, world: World, examples: int, tag: str | None = None) -> list[OperationReport]:
    reports = []
    for operation in operations(schema, tag):
        report = OperationReport(operation.label)
        for mode in MODES:
            fuzz_operation(operation, world, examples, mode, report)
        reports.append(report)
    return reports


def state_machine(schema, make_world, steps: Counter):
    """schemathesis' machine over the document's links, with a token where no link gave one.
    Each scenario starts from the same state (`make_world`): what one scenario leaves behind
    (a decision made, a limit reached) must not change what the next one draws, or Hypothesis
    rightly calls the generation flaky."""

    class ContractMachine(schema.as_state_machine()):
        def setup(self):
            random.seed(next(_SEEDS))
            self.world = make_world()

        def step(self, input):
            case = input.case
            linked = (ParameterLocation.HEADER, "Authorization") in input.applied_parameters
            negated = schema.is_security_param_negated(case)
            if case.operation.definition.raw.get("security") and not linked and not negated:
                role = fitting_role(case.operation.path)
                case.headers = {**(case.headers or {}), **self.world.headers(role, case.operation)}
            output = super().step(input)
            steps[
                case.operation.label, output.response.status_code, "linked" if input.transition else "root"
            ] += 1
            return output

        def get_call_kwargs(self, case):
            return dict(CALL)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
            )

    return ContractMachine


def linked_labels(schema) -> set[str]:
    """Operations a link starts from or leads to: the journeys the stateful run follows."""
    labels = set()
    for operation in operations(schema):
        for response in operation.definition.raw.get("responses", {}).values():
            for link in response.get("links", {}).values():
                labels.add(operation.label)
                path, method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
                labels.add(f"{method.upper()} {path.replace('~1', '/')}")
    return labels


def starting_over(app) -> Callable[[], World]:
    """A `make_world` for the stateful run: the callers made once, then before every scenario the
    database put back as it was just after (their tokens with it)."""
    world = build_world(app, people_only=True)
    db.session.remove()
    snapshot = dbreset.take_snapshot(db.engine)

    def make() -> World:
        db.session.remove()
        dbreset.restore(db.engine, snapshot)
        return world

    return make


@contextlib.contextmanager
def no_module_constants() -> Iterator[None]:
    """Hypothesis mixes into its draws constants read from every project module imported so far, so
    even a derandomized run takes another path when pytest has collected other test files (a full run
    versus one test). Without them the run is the same whatever came before it. There is no setting
    for this: the patch fails loudly (AttributeError) if Hypothesis renames the function."""
    with mock.patch.object(providers, "_get_local_constants", return_value=providers.Constants()):
        yield


def run_stateful(schema, make_world, scenarios: int, max_steps: int) -> Counter:
    """Steps run per (operation, status, linked or root); raises the first failing scenario's error.
    The same steps on every run (derandomized, no module constants): a journey the links allow is
    reached every time or never."""
    steps = Counter()
    labels = linked_labels(schema)
    machine = state_machine(schema.include(lambda ctx: ctx.operation.label in labels), make_world, steps)
    with no_module_constants():
        run_state_machine_as_test(
            machine,
            settings=settings(scenarios, stateful_step_count=max_steps, phases=[hypothesis.Phase.generate]),
        )
    return steps
