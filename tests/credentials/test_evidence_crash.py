"""Evidence uploads and kill -9: a process killed between writing the file and committing the row
leaves nothing behind once the next process starts; one killed after the commit loses nothing; an
upload still in flight in another process is never swept."""

import io
import json
import os
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from directory.credentials import inflight
from directory.credentials.models import Credential, Evidence
from directory.extensions import db
from tests.factories import PNG, evidence_dir

UPLOAD_THEN_DIE = textwrap.dedent(
    """
    import io, json, os, signal, sys
    from datetime import date
    from werkzeug.datastructures import FileStorage
    from directory import create_app
    from directory.accounts.models import User
    from directory.credentials import evidence, lifecycle, service
    from directory.extensions import db

    config, user_id, moment = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if moment == "before-commit":  # the file is on disk, the row only flushed
        transition = lifecycle.transition
        def transition_then_die(*args, **kwargs):
            transition(*args, **kwargs)
            die()
        service.lifecycle.transition = transition_then_die
    else:  # committed, but the upload never said it was done
        evidence.settle = die
    app = create_app(config)
    with app.app_context():
        data = {"issuer": "camtc", "kind": "license", "title": "Massage Therapist", "number": "CMT-4001",
                "issued_on": date(2018, 1, 1), "expires_on": date(2035, 1, 1)}
        service.submit(db.session.get(User, user_id), data, FileStorage(io.BytesIO(sys.stdin.buffer.read()), "l.png"))
    """
)


def kill_mid_upload(app, user_id: int, moment: str) -> None:
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "DATA_DIR": app.config["DATA_DIR"],
        "SECRET_KEY": "test",
        "TESTING": True,
    }
    db.session.remove()
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD_THEN_DIE, json.dumps(config), str(user_id), moment],
        input=PNG,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr.decode()[-2000:]


@pytest.mark.parametrize("moment", ["before-commit", "after-commit"])
def test_a_process_killed_mid_upload_leaves_no_orphan_and_loses_nothing(make_app, app, factory, moment):
    practitioner = factory.practitioner(display_name="Killed Midway")
    kill_mid_upload(app, practitioner.user.id, moment)
    folder = evidence_dir(app)
    left = sorted(p.suffix for p in folder.iterdir())
    assert left == [".bin", ".inflight"]  # the file, and the claim of an upload that never ended

    restarted = make_app()  # a new worker: it sweeps before its first request
    assert restarted.test_client().get("/api/v1/issuers").status_code == 200
    rows = db.session.execute(sa.select(Evidence.stored_name, Evidence.sha256)).all()
    files = sorted(p.name for p in folder.iterdir())
    if moment == "before-commit":
        assert rows == [] and files == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential)) == 0
    else:
        assert [name for name, _ in rows] == files  # kept: a row names it
        assert (folder / files[0]).read_bytes() == PNG


def test_an_upload_in_flight_elsewhere_is_not_swept(app, factory):
    folder = evidence_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "0123456789abcdef0123456789abcdef.bin"
    inflight.begin(target)  # as another worker would, between its file and its commit
    target.write_bytes(PNG)
    try:
        assert inflight.sweep(folder, unnamed_too=True) == []
        assert target.exists() and inflight.marker_of(target).exists()
    finally:
        inflight.end(target)
    target.unlink()


def test_the_sweep_command_clears_dead_uploads_and_reports_missing_files(app, runner, factory, client):
    folder = evidence_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    dead = folder / "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bin"
    dead.write_bytes(PNG)
    inflight.marker_of(dead).write_bytes(b"")  # nobody holds it: its process died
    legacy = folder / "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bin"
    legacy.write_bytes(PNG)  # no row, no claim: left before uploads were claimed

    result = runner.invoke(args=["directory", "sweep-evidence"])
    assert result.exit_code == 0, result.output
    assert not dead.exists() and not inflight.marker_of(dead).exists() and legacy.exists()
    result = runner.invoke(args=["directory", "sweep-evidence", "--unnamed"])
    assert result.exit_code == 0 and not legacy.exists(), result.output

    practitioner = factory.practitioner(display_name="Has Evidence")
    headers = factory.headers(practitioner.user)
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "MT",
        "number": "CMT-4002",
        "issued_on": "2018-01-01",
    }
    sent = client.post(
        "/api/v1/me/credentials",
        data={**data, "evidence": (io.BytesIO(PNG), "l.png")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    assert sorted(p.suffix for p in folder.iterdir()) == [".bin"]  # the claim ended with the commit
    stored = db.session.scalar(sa.select(Evidence.stored_name))
    os.remove(folder / stored)
    result = runner.invoke(args=["directory", "sweep-evidence"])
    assert (
        result.exit_code == 1 and f"MISSING   credential {sent.get_json()['id']}: {stored}" in result.output
    )
