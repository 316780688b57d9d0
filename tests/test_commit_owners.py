"""Who may commit: the functions that own a user action (or a command, or a background job), never
their helpers. Read from the source, so a new `commit()` anywhere fails here until it is put in the
table with its reason, and a function that stops committing must leave the table too."""

import ast
from pathlib import Path

import pytest

import directory

PACKAGE = Path(directory.__file__).parent

ACTION = "owns a user action: its one commit"
COMMAND = "a command-line action or a background job"
OWNERS = {
    # accounts
    "accounts/service.py": {
        "register": ACTION,
        "create_admin": COMMAND,
        "issue_api_token": ACTION,
        "reconfirm": ACTION,
        "end_api_token": ACTION,
        "change_password": ACTION,
        "sign_out_everywhere": ACTION,
    },
    "accounts/sessions.py": {"sign_in": ACTION, "change_password": ACTION, "sign_out": ACTION},
    "accounts/totp.py": {
        "start_enrolment": ACTION,
        "finish_enrolment": ACTION,
        "pass_code": ACTION,
        "reset": COMMAND,
    },
    "accounts/recovery_codes.py": {"make": ACTION},
    "accounts/recovery.py": {"request_reset": ACTION, "open_link": ACTION, "complete_reset": ACTION},
    "accounts/confirmation.py": {"resend": ACTION, "confirm": ACTION},
    # The idle clock's touch, when the caller is identified: before any action has written.
    "accounts/grants.py": {"find": "identifying the caller, before any action"},
    # credentials
    "credentials/service.py": {"submit": ACTION, "resubmit": ACTION, "set_legal_name": ACTION},
    "credentials/decisions.py": {"decide": ACTION},
    "credentials/roster.py": {"import_roster": ACTION},
    "credentials/attestations.py": {"issue": ACTION, "prune": COMMAND},
    "credentials/public.py": {"expire_due": COMMAND},
    # Its own transaction after an import's, so it signs what is committed.
    "credentials/checkpoints.py": {"publish": COMMAND},
    # practitioners and reviews
    "practitioners/service.py": {
        "save_profile": ACTION,
        "confirm_accepting": ACTION,
        "add_location": ACTION,
        "delete_location": ACTION,
    },
    "reviews/service.py": {
        "write": ACTION,
        "edit": ACTION,
        "respond": ACTION,
        "flag": ACTION,
        "moderate": ACTION,
    },
    "reviews/invites.py": {"create": ACTION},
    # Each message's attempt is kept on its own, after the response or in the mailer command.
    "mail.py": {"send_pending": COMMAND},
    "demo/generator.py": {"_write_batch": COMMAND + " (demo data, a batch at a time)"},
    # Whoosh's index writer, not the database.
    "search/index/building.py": {"_build": "the search index's own writer"},
    "search/index/following.py": {"catch_up": "the search index's own writer"},
}


def committing_functions() -> dict[str, set[str]]:
    """Per module (path inside the package), the functions whose own body calls `….commit()`."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any(_is_commit(node) for node in _own_nodes(function)):
                found.setdefault(path.relative_to(PACKAGE).as_posix(), set()).add(function.name)
    return found


def _own_nodes(function):
    """The function's nodes, not those of functions nested in it (they are judged on their own)."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _is_commit(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"


def test_only_the_owners_of_an_action_commit():
    found = committing_functions()
    allowed = {module: set(functions) for module, functions in OWNERS.items()}
    unexpected = {m: sorted(f - allowed.get(m, set())) for m, f in found.items() if f - allowed.get(m, set())}
    assert not unexpected, f"helpers must not commit; the owner of the action does: {unexpected}"
    stale = {m: sorted(f - found.get(m, set())) for m, f in allowed.items() if f - found.get(m, set())}
    assert not stale, f"these no longer commit: take them out of OWNERS: {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def helper():\n    db.session.commit()\n", {"helper"}),
        ("def owner():\n    def inner():\n        s.commit()\n    inner()\n", {"inner"}),
        ("def owner():\n    with db.engine.begin() as c:\n        c.execute(x)\n", set()),
        ("def owner():\n    db.session.flush()\n", set()),
        ("class A:\n    def save(self):\n        self.session.commit()\n", {"save"}),
    ],
)
def test_the_guard_sees_a_commit_wherever_it_is_written(source, expected, tmp_path, monkeypatch):
    (tmp_path / "module.py").write_text(source)
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    assert committing_functions().get("module.py", set()) == expected
