"""Two processes writing at once: every update reaches the index, none is lost."""

import json
import subprocess
import sys
import textwrap

from directory.extensions import db
from directory.search.node import node

WRITER = textwrap.dedent(
    """
    import json, sys
    from directory import create_app
    from directory.accounts.models import User
    from directory.extensions import db
    from directory.practitioners import service
    from directory.practitioners.schemas import ProfileInSchema
    from directory.search.node import node

    config, user_ids, tag = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    app = create_app(config)
    with app.app_context():
        for round_ in range(8):
            for uid in user_ids:
                user = db.session.get(User, uid)
                data = ProfileInSchema().load({"display_name": f"W{uid}", "approach": f"{tag}x{round_} note"})
                service.save_profile(user, data)
                node().catch_up_quietly()
        db.engine.dispose()
    """
)


def test_two_writer_processes_lose_no_update(app, client, factory):
    users = [factory.user("practitioner") for _ in range(6)]
    for user in users:
        factory.practitioner(user, approach="start")
    assert client.get("/api/v1/search", query_string={"q": "start"}).get_json()["total"] == 6
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "DATA_DIR": app.config["DATA_DIR"],
        "SECRET_KEY": "test",
        "TESTING": True,
    }
    halves = {"alpha": [u.id for u in users[:3]], "omega": [u.id for u in users[3:]]}
    db.session.remove()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, json.dumps(config), json.dumps(ids), tag])
        for tag, ids in halves.items()
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    node()  # this process's node catches up with whatever the writers left
    for tag in halves:
        body = client.get("/api/v1/search", query_string={"q": f"{tag}x7"}).get_json()
        assert body["total"] == 3, (tag, body)
    assert client.get("/api/v1/search", query_string={"q": "start"}).get_json()["total"] == 0
    for round_ in range(7):
        assert client.get("/api/v1/search", query_string={"q": f"alphax{round_}"}).get_json()["total"] == 0
