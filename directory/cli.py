"""`flask --app wsgi directory …`: the domain commands, registered in one place."""

import click
from flask.cli import AppGroup

directory_cli = AppGroup("directory", help="Directory service commands.")


@directory_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
def create_admin(email: str, password: str) -> None:
    """Create an admin account (or make an existing account admin)."""
    from directory.accounts import service
    from directory.rules import RuleError

    try:
        user = service.create_admin(email, password)
    except RuleError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Admin {user.email} (id {user.id}) is ready.")
    if not user.totp_secret:
        click.echo("At the first sign-in, the site asks to set up an authenticator app for admin work.")


@directory_cli.command("reset-two-factor")
@click.option("--email", required=True)
def reset_two_factor(email: str) -> None:
    """Forget an account's authenticator (a lost phone): it is set up again at the next sign-in."""
    import sqlalchemy as sa

    from directory.accounts import service, totp
    from directory.accounts.models import User
    from directory.extensions import db

    user = db.session.scalar(sa.select(User).where(User.email == service.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account {email}.")
    totp.reset(user)
    click.echo(f"The authenticator of {user.email} is forgotten; it is set up again at the next sign-in.")


@directory_cli.command("demo")
@click.option("--count", default=200, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same practitioners.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the directory already has practitioners.")
def demo(count: int, seed: int, if_empty: bool) -> None:
    """Create COUNT synthetic practitioners over real US places."""
    import sqlalchemy as sa

    from directory.demo.generator import generate
    from directory.extensions import db
    from directory.practitioners.models import Practitioner

    if if_empty and db.session.scalar(sa.select(Practitioner.id).limit(1)) is not None:
        click.echo("The directory already has practitioners; no demo data added.")
        return
    from directory.demo.credentials import add_credentials
    from directory.demo.reviews import add_reviews

    summary = generate(count=count, seed=seed, hooks=[add_credentials, add_reviews])
    click.echo(
        f"Created {summary['practitioners']} practitioners with {summary['locations']} places "
        f"in {summary['seconds']:.1f} s."
        + (" Database statistics refreshed (ANALYZE)." if summary["statistics_refreshed"] else "")
    )


@directory_cli.command("reindex")
@click.option("--if-missing", is_flag=True, help="Only build when this node has no readable index.")
def reindex(if_missing: bool) -> None:
    """Rebuild the search index into a new folder and swap it in."""
    import sys

    from directory.search.node import node

    search = node()
    if if_missing and search.has_readable_index():
        click.echo("The search index is in place; nothing to build.")
        return
    summary = search.store.rebuild(progress_bar=sys.stderr.isatty())
    applied = search.store.catch_up() or 0
    click.echo(
        f"Indexed {summary['documents']} practitioners in {summary['seconds']:.1f} s "
        f"(then {applied} newer changes applied)."
    )


@directory_cli.command("indexer")
@click.option("--follow", is_flag=True, help="Keep following the outbox until SIGTERM or SIGINT.")
@click.option("--interval", default=0.2, show_default=True, type=click.FloatRange(0.01, 60), help="Seconds.")
def indexer(follow: bool, interval: float) -> None:
    """Bring this node's search index up to date with the outbox (rebuilding it if missing); one JSON
    log line per batch. Safe to kill at any instant: it resumes from the last applied outbox id."""
    import os
    import signal
    import threading

    from directory.search.follower import Follower
    from directory.search.node import node

    stop = threading.Event()

    def _stop(signum, frame):
        if stop.is_set():
            # A second signal: stop now, as a kill would (safe at any instant). Not SystemExit, which
            # code in the middle of a query may turn into another exception and carry on.
            os._exit(128 + signum)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    follower = Follower(node(), interval=interval, stop=stop)
    try:
        applied = follower.run(follow=follow)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not follow:
        if follower.failures:  # logged already; a deploy script must not go on as if it were done
            raise click.ClickException("The index could not be brought up to date; see the log above.")
        click.echo(f"Applied {applied} outbox rows; the index is up to date.")


@directory_cli.command("mailer")
def mailer() -> None:
    """Send what the mail queue still holds (a message whose send after its request failed, say).
    Exits 1 while unsent messages remain, so a scheduler notices a mail server that stays down."""
    from directory import mail

    sent = mail.send_pending()
    left = mail.unsent_count()
    click.echo(f"Sent {sent} queued messages; {left} still unsent.")
    if left:
        raise SystemExit(1)


@directory_cli.command("expire")
def expire() -> None:
    """Record every lapsed credential as expired, and every re-check overdue past its grace as lapsed
    (actor system); list those that expire within 30 days; forget signed records past their end."""
    from directory.credentials import attestations, public, standing

    result = public.expire_due()
    for credential in result["expired"]:
        click.echo(
            f"expired   #{credential.id} {credential.issuer.slug} {credential.number} (on {credential.ends_on})"
        )
    for credential in result["lapsed"]:
        click.echo(
            f"lapsed    #{credential.id} {credential.issuer.slug} {credential.number} "
            f"(re-check was due {standing.next_check_due(credential)})"
        )
    for credential in result["expiring_soon"]:
        click.echo(
            f"due soon  #{credential.id} {credential.issuer.slug} {credential.number} (on {credential.ends_on})"
        )
    pruned = attestations.prune()
    click.echo(
        f"{len(result['expired'])} expired now; {len(result['lapsed'])} lapsed for want of a re-check; "
        f"{len(result['expiring_soon'])} expire within 30 days; {pruned} old signed records forgotten."
    )


@directory_cli.command("audit-verify")
@click.option(
    "--checkpoint",
    "checkpoint_source",
    metavar="FILE|URL",
    help="Also check the log against a checkpoint someone kept (the JSON of /api/v1/audit/checkpoint, or its JWS).",
)
def audit_verify(checkpoint_source: str | None) -> None:
    """Recompute the audit chains and replay every credential's status; with --checkpoint, prove the log
    is not shorter than, or different from, what that checkpoint signed. Exit 1 on any break."""
    from directory.credentials import checkpoints
    from directory.credentials.audit import verify_chain

    result = verify_chain()
    failed = False
    for problem in result["broken"]:
        where = f"event {problem['event_id']}" if problem["event_id"] else "its current status"
        chain = (
            f"credential {problem['credential_id']}" if problem["credential_id"] else "the log's own chain"
        )
        click.echo(f"BROKEN {chain}: {where}: {problem['problem']}")
        failed = True
    if checkpoint_source:
        try:
            checked = checkpoints.check(checkpoints.load(checkpoint_source))
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(f"Cannot read the checkpoint {checkpoint_source}: {exc}") from exc
        claims = checked["claims"]
        for problem in checked["problems"]:
            click.echo(f"CUT SHORT: {problem}")
            failed = True
        if not checked["problems"]:
            click.echo(
                f"Checkpoint of {claims['count']} events (up to event {claims['last_event_id']}) holds: "
                "the log has every event it signed, unchanged."
            )
    if failed:
        raise SystemExit(1)
    click.echo(
        f"Audit chain intact: {result['events']} events, {result['credentials']} credentials replayed."
    )


@directory_cli.command("checkpoint")
@click.option(
    "--if-older-than", "older", type=click.IntRange(0), help="Minutes; do nothing if a newer one exists."
)
def checkpoint(older: int | None) -> None:
    """Publish a signed checkpoint of the audit log at /api/v1/audit/checkpoint (run it hourly)."""
    from datetime import timedelta

    from directory.credentials import checkpoints

    made = (
        checkpoints.publish_if_due(timedelta(minutes=older)) if older is not None else checkpoints.publish()
    )
    if made is None:
        click.echo("A recent checkpoint stands; nothing published.")
        return
    click.echo(
        f"Checkpoint #{made.id}: {made.event_count} events up to event {made.last_event_id}, digest {made.digest}."
    )


@directory_cli.command("sweep-evidence")
@click.option("--unnamed", is_flag=True, help="Also remove files that no row names and no upload claims.")
def sweep_evidence(unnamed: bool) -> None:
    """Remove the evidence files of uploads whose process died before its transaction ended (each
    worker also does this before its first request); exit 1 if a row names a missing file."""
    from pathlib import Path

    import sqlalchemy as sa
    from flask import current_app

    from directory.credentials import inflight
    from directory.credentials.models import Evidence
    from directory.extensions import db

    folder = Path(current_app.config["DATA_DIR"]) / "evidence"
    removed = inflight.sweep(folder, unnamed_too=unnamed)
    for name in removed:
        click.echo(f"removed   {name}")
    missing = [
        (cid, name)
        for cid, name in db.session.execute(sa.select(Evidence.credential_id, Evidence.stored_name))
        if not (folder / name).is_file()
    ]
    for cid, name in missing:
        click.echo(f"MISSING   credential {cid}: {name}")
    click.echo(f"{len(removed)} files removed; {len(missing)} named by a row but missing.")
    if missing:
        raise SystemExit(1)


@directory_cli.command("rotate-signing-key")
def rotate_signing_key() -> None:
    """Sign attestations with a new Ed25519 key from now on; old keys stay in the JWKS. Prints its kid."""
    from directory.credentials import signing

    click.echo(signing.rotate())


@directory_cli.command("retire-signing-key")
@click.argument("kid")
def retire_signing_key(kid: str) -> None:
    """Stop KID signing for good: it stays in the JWKS, marked retired and verify-only, so kept records and
    checkpoints stay checkable. The current key is retired by rotating first."""
    from directory.credentials import signing
    from directory.timeutil import now_utc

    try:
        signing.retire(kid, now_utc().isoformat(timespec="seconds"))
    except KeyError as exc:
        raise click.ClickException(f"No signing key {kid}.") from exc
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{kid} is retired: it signs no more and stays published for checking.")


@directory_cli.command("import-roster")
@click.argument("issuer")
@click.argument("file", type=click.File("rb"))
@click.option("--admin", "admin_email", help="The acting admin's email (default: the only admin).")
@click.option("--dry-run", is_flag=True, help="Check and match, report, change nothing.")
def import_roster(issuer: str, file, admin_email: str | None, dry_run: bool) -> None:
    """Import ISSUER's roster FILE (CSV number,name,status,expires_on[,issued_on]); all or nothing."""
    import sys

    from directory.credentials import roster
    from directory.rules import RuleError

    try:
        admin = roster.default_admin(admin_email)
        summary = roster.import_roster(admin, issuer, file, progress=sys.stderr.isatty(), dry_run=dry_run)
    except RuleError as exc:
        problem: dict
        for problem in exc.errors if isinstance(exc.errors, list) else []:
            click.echo(f"line {problem['line']}: {problem['message']}", err=True)
        raise click.ClickException(exc.message) from exc
    details = summary["details"]
    for label in ("lapsed", "sent_back", "contested", "mismatched"):
        for item in details[label]:
            line = f" (line {item['line']})" if item["line"] else ""
            click.echo(
                f"{label.replace('_', ' '):<11} #{item['credential_id']} {item['number']}{line}: {item['reason']}"
            )
    for item in details["dates_differ"]:
        click.echo(
            f"dates       #{item['credential_id']} {item['number']} (line {item['line']}): {item['field']} "
            f"{item['claimed']} claimed, {item['roster']} on the roster (the roster's stands)"
        )
    would = "would be " if dry_run else ""
    click.echo(
        f"{summary['rows']} rows, {summary['matched']} matched: {summary['verified']} {would}verified, "
        f"{summary['confirmed']} {would}confirmed, {summary['sent_back']} {would}sent back, "
        f"{summary['lapsed']} {would}lapsed, {summary['mismatched']} mismatched, "
        f"{summary['contested']} contested, in {summary['seconds']:.1f} s (as {admin.email})."
        + (" Dry run: nothing changed." if dry_run else "")
    )
