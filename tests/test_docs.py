"""The project's documents name only what exists: files of this repository, routes the app serves,
commands it registers, make targets, modules a bench is run as. Code moves; a document that still
points at the old place misleads the next reader, so a move that forgets the docs fails here."""

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from directory import create_app

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([*(ROOT / "docs").rglob("*.md"), ROOT / "CONTRIBUTING.md"])

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
SPAN = re.compile(r"`([^`\n]+(?:\n[^`\n]+)?)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
MARKDOWN_NAME = re.compile(r"[\w./-]+\.md\b")
PATH = re.compile(r"^[\w.<>-]+(/[\w.<>-]*)*$")
EXTENSIONS = {"py", "md", "toml", "html", "json", "ini", "txt", "js", "css", "mako", "cfg"}
# Made at run time, not kept in the repository: the virtualenv, the development instance folder, and
# the folders and files of a node's data dir (DIRECTORY_DATA_DIR), which the runbook describes.
RUNTIME = (".venv/", "instance/")
PACKAGES = ("directory", "tests", "bench", "migrations")
DATA_DIR_ENTRIES = {"search/", "search/walks/", "mail/", "evidence/", "signing/", "secret_key"}
# Example mount points and data dirs in the runbook: a deployment's paths, not files of anyone's.
DEPLOYMENT_ROOTS = ("/var/lib/", "/mnt/")
COMMANDS = {
    "directory": re.compile(r"flask --app wsgi\s+directory\s+([a-z][\w-]*)"),
    "db": re.compile(r"flask --app wsgi\s+db\s+([a-z][\w-]*)"),
    "module": re.compile(r"python -m\s+([\w.]+)"),
    "make": re.compile(r"(?:^|[\s`])make\s+([a-z][\w-]*)"),
}


@dataclass
class Repository:
    """What a document may name: the app's routes and commands, the Makefile's targets."""

    routes: list[list[str]]
    directory_commands: set[str]
    db_commands: set[str]
    make_targets: set[str]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("?")[0].split("#")[0].strip("/").split("/") if s != ""]


def _route_exists(path: str, routes: list[list[str]]) -> bool:
    """A `<placeholder>` on either side matches any one segment; a path ending in / names a prefix."""
    wanted = _segments(path)
    if path.endswith("/") and len(wanted) > 0:
        return any(rule[: len(wanted)] == wanted for rule in routes)
    for rule in routes:
        if len(rule) == len(wanted) and all(
            a == b or a.startswith("<") or b.startswith("<") for a, b in zip(rule, wanted, strict=True)
        ):
            return True
    return False


def _module_exists(name: str) -> bool:
    relative = Path(*name.split("."))
    if (ROOT / relative.with_suffix(".py")).is_file() or (ROOT / relative / "__init__.py").is_file():
        return True
    top = name.split(".")[0]
    return not (ROOT / top).exists() and importlib.util.find_spec(top) is not None


def _looks_like_file(token: str) -> bool:
    if not PATH.match(token) or token.startswith(("-", "/")):
        return False
    if "/" in token:
        return not token.split("/")[0].isupper()  # DIRECTORY_DATA_DIR/…: a node's folder
    name = token.rsplit(".", 1)
    return len(name) == 2 and name[0] != "" and name[1] in EXTENSIONS


def _file_exists(token: str, here: Path) -> bool:
    if token.startswith(RUNTIME) or token in DATA_DIR_ENTRIES:
        return True
    if "<" in token:  # `directory/<domain>/models.py`: the folder before the placeholder must exist
        return (ROOT / token.split("<")[0]).is_dir()
    if (ROOT / token).exists() or (here / token).exists():
        return True
    # A bare module name (`models.py`) names a kind of file: some package of the project must have one.
    return "/" not in token and token in _project_file_names()


@functools.cache
def _project_file_names() -> frozenset[str]:
    return frozenset(p.name for top in PACKAGES for p in (ROOT / top).rglob("*") if p.is_file())


def _inside(target: Path) -> bool:
    return target.resolve().is_relative_to(ROOT)


def problems(text: str, repo: Repository, here: Path = ROOT) -> list[str]:
    """Everything `text` names that the repository does not hold; empty when all is well."""
    found = []
    fenced = "\n".join(FENCE.findall(text))
    prose = FENCE.sub("", text)
    spans = [" ".join(span.split()) for span in SPAN.findall(prose)]
    for span in spans:
        for token in re.findall(r"(?:^|\s)(/[^\s|]*)", span):
            if token.startswith(DEPLOYMENT_ROOTS):
                continue
            if not _route_exists(token, repo.routes):
                found.append(f"no route or file in the repository: {token}")
        for token in span.split():
            if token.startswith("../") or "/../" in token:
                found.append(f"outside the repository: {token}")
            elif _looks_like_file(token) and not _file_exists(token, here):
                found.append(f"no such file: {token}")
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = here / target.split("#")[0]
        if not _inside(path) or not path.exists():
            found.append(f"link to nothing in the repository: {target}")
    for name in MARKDOWN_NAME.findall(prose):
        path = here / name
        if not (_inside(path) and path.exists()) and not (ROOT / name).exists():
            found.append(f"no such document: {name}")
    commands = " ".join(spans) + "\n" + fenced
    for name in COMMANDS["directory"].findall(commands):
        if name not in repo.directory_commands:
            found.append(f"no such command: flask --app wsgi directory {name}")
    for name in COMMANDS["db"].findall(commands):
        if name not in repo.db_commands:
            found.append(f"no such command: flask --app wsgi db {name}")
    for name in COMMANDS["module"].findall(commands):
        if not _module_exists(name):
            found.append(f"no such module: python -m {name}")
    for name in COMMANDS["make"].findall(commands):
        if name not in repo.make_targets:
            found.append(f"no such make target: {name}")
    return found


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "SECRET_KEY": "test-secret",
        }
    )
    routes = [_segments(rule.rule) for rule in app.url_map.iter_rules()]
    groups = app.cli.commands
    makefile = (ROOT / "Makefile").read_text()
    return Repository(
        routes=routes,
        directory_commands=set(groups["directory"].commands),
        db_commands=set(groups["db"].commands),
        make_targets=set(re.findall(r"^([a-z][\w-]*):", makefile, re.M)),
    )


def test_there_are_documents_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in DOCUMENTS}
    assert {"CONTRIBUTING.md", "docs/architecture.md", "docs/api.md", "docs/domain.md"} <= names
    assert {"docs/operations.md", "docs/decisions/README.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_document_names_only_what_exists(document, repo):
    assert problems(document.read_text(), repo, document.parent) == []


def test_the_readme_links_every_document():
    readme = (ROOT / "README.md").read_text()
    for document in ("CONTRIBUTING.md", "docs/architecture.md", "docs/api.md", "docs/domain.md"):
        assert f"]({document})" in readme
    assert "](docs/operations.md)" in readme and "](docs/decisions/README.md)" in readme


def test_every_decision_record_is_listed_and_has_its_three_parts():
    folder = ROOT / "docs" / "decisions"
    index = (folder / "README.md").read_text()
    records = sorted(p for p in folder.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records
    for record in records:
        text = record.read_text()
        assert f"]({record.name})" in index, record.name
        assert [h for h in ("## Context", "## Decision", "## Consequences") if h not in text] == []


# What the checker must catch, and what it must let through: each line one thing a document might say.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see `directory/search/engine.py`", []),
        ("see `directory/search/nowhere.py`", ["no such file: directory/search/nowhere.py"]),
        ("see `wsgi.py` and `gunicorn.conf.py`", []),
        ("see `nowhere.toml`", ["no such file: nowhere.toml"]),
        ("each domain's `present.py`", []),
        ("each domain's `absent.py`", ["no such file: absent.py"]),
        ("as `PLANS.md` explains", ["no such file: PLANS.md", "no such document: PLANS.md"]),
        (
            "read [the notes](../elsewhere/notes.md)",
            [
                "link to nothing in the repository: ../elsewhere/notes.md",
                "no such document: ../elsewhere/notes.md",
            ],
        ),
        ("read [the API](api.md)", []),
        (
            "read [the API](nowhere.md)",
            ["link to nothing in the repository: nowhere.md", "no such document: nowhere.md"],
        ),
        ("copy `../elsewhere/x`", ["outside the repository: ../elsewhere/x"]),
        ("under `/srv/elsewhere/x`", ["no route or file in the repository: /srv/elsewhere/x"]),
        ("`GET /api/v1/search` and `/healthz`", []),
        ("`GET /api/v1/practitioners/<id>/reviews`", []),
        ("`GET /api/v1/nowhere`", ["no route or file in the repository: /api/v1/nowhere"]),
        ("`DIRECTORY_DATA_DIR/search/` and `evidence/`", []),
        ("`ln -s /mnt/directory/evidence x`", []),
        ("`directory/<domain>/models.py`", []),
        ("`nowhere/<domain>/models.py`", ["no such file: nowhere/<domain>/models.py"]),
        ("`flask --app wsgi directory reindex`", []),
        ("`flask --app wsgi directory reinvent`", ["no such command: flask --app wsgi directory reinvent"]),
        ("`flask --app wsgi db upgrade`", []),
        ("`flask --app wsgi db sideways`", ["no such command: flask --app wsgi db sideways"]),
        (
            "```sh\nflask --app wsgi directory nosuch\n```",
            ["no such command: flask --app wsgi directory nosuch"],
        ),
        ("`python -m pytest`", []),
        ("`python -m bench.nowhere`", ["no such module: python -m bench.nowhere"]),
        ("`python -m directory.nowhere`", ["no such module: python -m directory.nowhere"]),
        ("`make lint`", []),
        ("`make deploy`", ["no such make target: deploy"]),
    ],
)
def test_the_checker_catches_what_does_not_exist(text, expected, repo):
    assert problems(text, repo, ROOT / "docs") == expected


def test_the_runbook_names_every_security_event_the_code_writes():
    """Operators alert on these names: one the code writes but the runbook omits goes unwatched."""
    written = set()
    for source in (ROOT / "directory").rglob("*.py"):
        written |= set(re.findall(r'security_event\(\s*"([a-z_.]+)"', source.read_text()))
    runbook = (ROOT / "docs" / "operations.md").read_text()
    section = runbook[runbook.index("every one the code writes") : runbook.index("never reach a log line")]
    named = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)*)`", section))
    assert written and named == written
