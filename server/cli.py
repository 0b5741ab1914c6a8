"""The ``hearthside`` command line. Every command that touches data takes ``--data-dir``
(default: ``HEARTHSIDE_DATA_DIR``, then ``./data``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .settings import Settings, documented_settings

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HEARTHSIDE_DATA_DIR",
    default=None,
    help="Data directory (database, keys). Default: HEARTHSIDE_DATA_DIR or ./data.",
)


def _settings(data_dir: Path | None, **overrides) -> Settings:
    return Settings.from_env(data_dir=data_dir, **overrides)


def _store(settings: Settings):
    from .app import open_store

    return open_store(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Hearthside: the home-visit companion for health visitors, family support workers and
    their supervisors."""
    # Backups, restores, keys and anchors made from the command line are private too.
    os.umask(0o077)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@data_dir_option
def serve(host: str, port: int, data_dir: Path | None) -> None:
    """Run the server on a data directory (created and migrated if new)."""
    _run(_settings(data_dir), host, port)


def _run(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from .app import create_app
    from .security.serving import uvicorn_options

    uvicorn.run(create_app(settings), host=host, port=port, **uvicorn_options(settings))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@data_dir_option
@click.option("--no-serve", is_flag=True, help="Seed the demo data and exit.")
def demo(host: str, port: int, data_dir: Path | None, no_serve: bool) -> None:
    """Seed synthetic demo data (idempotent) and serve it in demo mode."""
    from .auth.passwords import DEMO_PASSWORD
    from .demo import USERS, seed_demo

    settings = _settings(data_dir, demo=True)
    store = _store(settings)
    created = seed_demo(store)
    store.close()
    click.echo(("Seeded" if created else "Demo data already present in") + f" {settings.data_dir}")
    click.echo(f"Hearthside demo: http://{host}:{port}/")
    click.echo("Demo sign-ins (password for each: %s):" % DEMO_PASSWORD)
    for username, _, role in USERS:
        click.echo(f"  {username:<15} {role}")
    if not no_serve:
        _run(settings, host, port)


@main.command()
@data_dir_option
def migrate(data_dir: Path | None) -> None:
    """Create or migrate the database."""
    from .app import open_store
    from .storage.migrations import apply_migrations

    store = open_store(_settings(data_dir), migrate=False)
    applied = apply_migrations(store.connect())
    click.echo(f"Applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "Database is up to date.")


@main.command("settings")
@click.option("--markdown", is_flag=True, help="Print the README's configuration table.")
def show_settings(markdown: bool) -> None:
    """List the HEARTHSIDE_* environment variables, their defaults and meaning."""
    for name, default, description in documented_settings():
        if markdown:
            click.echo(f"| `{name}` | {default or '—'} | {description} |")
        else:
            click.echo(f"{name}\n    {description}" + (f" (default: {default})" if default else ""))


@main.group()
def agency() -> None:
    """Agencies and their teams."""


@agency.command("create")
@click.argument("name")
@click.option("--timezone", default="Europe/London", show_default=True)
@data_dir_option
def agency_create(name: str, timezone: str, data_dir: Path | None) -> None:
    """Create an agency (the tenancy boundary)."""
    from .clock import now_iso
    from .ids import new_id

    from .storage import accounts

    store = _store(_settings(data_dir))
    with store.write() as db:
        agency_id = new_id()
        accounts.insert_agency(db, {"id": agency_id, "name": name, "timezone": timezone, "settings": "{}",
                                    "created_at": now_iso()})
    click.echo(agency_id)


@agency.command("create-team")
@click.option("--agency", "agency_ref", required=True, help="Agency id or exact name.")
@click.argument("name")
@data_dir_option
def team_create(agency_ref: str, name: str, data_dir: Path | None) -> None:
    """Create a team in an agency."""
    from .clock import now_iso
    from .ids import new_id

    from .storage import accounts

    store = _store(_settings(data_dir))
    with store.write() as db:
        agency_id = _agency_id(db, agency_ref)
        team_id = new_id()
        accounts.insert_team(db, {"id": team_id, "agency_id": agency_id, "name": name, "created_at": now_iso()})
    click.echo(team_id)


from .agency.cli import register as _register_agency_integration  # noqa: E402

_register_agency_integration(agency, data_dir_option, lambda data_dir: _store(_settings(data_dir)))


def _agency_id(db, ref: str) -> str:
    from .storage import accounts

    rows = accounts.agency_ids_by_ref(db, ref)
    if len(rows) != 1:
        raise click.ClickException(f"No single agency matches {ref!r}.")
    return rows[0]


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.option("--agency", "agency_ref", required=True, help="Agency id or exact name.")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--role", type=click.Choice(["practitioner", "supervisor", "admin"]), required=True)
@click.option("--team", "team_id", default=None, help="Team id.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
def user_create(agency_ref, username, display_name, role, team_id, password_stdin, data_dir) -> None:
    """Create a staff account (the password is asked for, never taken as an argument)."""
    from .accounts.service import create_user
    from .errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _store(_settings(data_dir))
    try:
        with store.write() as db:
            row = create_user(db, agency_id=_agency_id(db, agency_ref), username=username,
                              display_name=display_name, role=role, password=password, team_id=team_id)
    except DomainError as exc:
        details = "; ".join(e.message for e in exc.errors)
        raise click.ClickException(f"{exc.detail} {details}".strip()) from None
    click.echo(row["id"])


@user.command("disable")
@click.argument("username")
@data_dir_option
def user_disable(username: str, data_dir: Path | None) -> None:
    """Disable an account: its sessions end at once."""
    from .accounts.service import set_user_disabled
    from .storage import accounts

    store = _store(_settings(data_dir))
    with store.write() as db:
        found = accounts.user_by_username(db, username)
        if found is None:
            raise click.ClickException(f"No user {username!r}.")
        set_user_disabled(db, found, True, {"agency_id": found["agency_id"], "purpose": "cli"})
    click.echo(f"Disabled {username}.")


@main.group()
def device() -> None:
    """Enrolled phones."""


@device.command("revoke")
@click.argument("device_id")
@data_dir_option
def device_revoke(device_id: str, data_dir: Path | None) -> None:
    """Revoke a device (lost phone): its tokens stop working at once, and at its next
    contact it uploads what it holds and then wipes."""
    from .accounts.service import revoke_device
    from .errors import NotFound
    from .storage import accounts

    store = _store(_settings(data_dir))
    try:
        with store.write() as db:
            revoke_device(db, device_id, {"agency_id": accounts.device_agency(db, device_id), "purpose": "cli"})
    except NotFound:
        raise click.ClickException(f"No device {device_id!r}.") from None
    click.echo(f"Revoked {device_id}.")


from .content.cli import content  # noqa: E402
from .model_cli import model  # noqa: E402

main.add_command(content)
main.add_command(model)



@user.command("unlock")
@click.argument("username")
@data_dir_option
def user_unlock(username: str, data_dir: Path | None) -> None:
    """Clear every sign-in delay on an account (failed sign-ins never lock it)."""
    from .security.throttle import unlock
    from .storage import accounts

    store = _store(_settings(data_dir))
    with store.write() as db:
        found = accounts.user_by_username(db, username)
        if found is None:
            raise click.ClickException(f"No user {username!r}.")
        unlock(db, store.keyring, found, {"agency_id": found["agency_id"], "purpose": "cli"})
    click.echo(f"Unlocked {username}: sign-in delays cleared.")


# -- keys ---------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """The server's field-encryption keyring (kept outside the database)."""


def _keyring_file(settings: Settings) -> Path:
    if settings.keyring:
        raise click.ClickException(
            "The keyring comes from HEARTHSIDE_KEYRING: keys can only be rotated or retired in a keyring file "
            "(set HEARTHSIDE_KEYRING_FILE, run the command, then update the variable from the file).")
    return settings.keyring_path


@keys.command("list")
@data_dir_option
def keys_list(data_dir: Path | None) -> None:
    """Show the key ids (never the keys) and how many values each protects."""
    from .security.rotation import values_under_keys

    store = _store(_settings(data_dir))
    with store.read() as db:
        counts = values_under_keys(db, list(store.keyring.keys))
    for kid in store.keyring.keys:
        n = sum(v for k, v in counts.items() if k.endswith(f"({kid})"))
        click.echo(f"{kid}{' (active)' if kid == store.keyring.active else ''}: {n} value(s)")


@keys.command("rotate")
@click.option("--resume", is_flag=True, help="Only finish (or redo) the sweep to the active key; add no key.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@data_dir_option
def keys_rotate(resume: bool, batch_size: int, data_dir: Path | None) -> None:
    """Add a new active key and re-encrypt every value under it (resumable: a killed
    rotation carries on where it stopped when run again). Old keys stay until retired."""
    from .security.rotation import rotate

    settings = _settings(data_dir)
    path = _keyring_file(settings)
    store = _store(settings)
    report = rotate(store, path, batch_size=batch_size, resume_only=resume)
    click.echo(f"{'Resumed' if report.resumed else 'Rotated'} to key {report.target_kid}: "
               f"re-encrypted {report.reencrypted} value(s) in this run.")
    for column, n in sorted(report.per_column.items()):
        if n:
            click.echo(f"  {column}: {n}")
    if report.remaining_old:
        click.echo("Still under older keys (restart servers, then run `keys rotate --resume`):")
        for column, n in report.remaining_old.items():
            click.echo(f"  {column}: {n}")
    else:
        old = [k for k in store.keyring.keys if k != report.target_kid]
        if old:
            click.echo(f"Nothing is left under {', '.join(old)}: retire with `hearthside keys retire KID` once no "
                       "backup you keep needs it.")


@keys.command("retire")
@click.argument("kid")
@data_dir_option
def keys_retire(kid: str, data_dir: Path | None) -> None:
    """Remove an old key, after checking no value in the database is still under it."""
    from .security.rotation import retire

    settings = _settings(data_dir)
    path = _keyring_file(settings)
    store = _store(settings)
    try:
        retire(store, path, kid)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Retired {kid}.")


# -- audit ------------------------------------------------------------------------------

from .audit_cli import register as _register_audit  # noqa: E402

_register_audit(main, data_dir_option, _settings, _store)


# -- backups ------------------------------------------------------------------------------


@main.command("backup")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@data_dir_option
def backup_cmd(out_dir: Path, data_dir: Path | None) -> None:
    """Take an online, consistent backup (keys NOT included) into OUT_DIR, with a manifest."""
    from .backup import backup

    settings = _settings(data_dir)
    if not settings.db_path.exists():
        raise click.ClickException(f"No database at {settings.db_path}.")
    path, manifest = backup(settings.db_path, out_dir)
    click.echo(str(path))
    click.echo(f"Key ids needed to read it (keep a keyring with them, separately): "
               f"{', '.join(manifest['key_ids_needed']) or 'none'}")


@main.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database (stop the server first).")
@data_dir_option
def restore_cmd(backup_file: Path, force: bool, data_dir: Path | None) -> None:
    """Restore a backup into the data directory (refuses to replace a database without --force)."""
    from .backup import restore

    settings = _settings(data_dir)
    try:
        manifest = restore(backup_file, settings.data_dir, force=force)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {backup_file.name} ({manifest['started_at']}) into {settings.db_path}.")
    if not settings.keyring and not settings.keyring_path.exists():
        click.echo(f"No keyring at {settings.keyring_path}: put the keyring with key ids "
                   f"{', '.join(manifest['key_ids_needed'])} there before starting the server.")
        click.echo("The restore is NOT recorded in the audit anchor (that needs the keyring): `hearthside audit "
                   "verify` will name this database as rolled back. Put the keyring in place and restore again "
                   "with --force to record it.")
        return
    from .audit_anchor import record_restore
    from .storage.crypto import Keyring

    keyring = Keyring.load_or_create(settings.keyring_path, settings.keyring)
    head = record_restore(settings.anchor_path, keyring, settings.db_path, manifest)
    click.echo(f"Recorded in the audit anchor {settings.anchor_path}: restored trail ends at entry {head['seq']}.")


# -- retention ----------------------------------------------------------------------------


@main.group()
def retention() -> None:
    """Record retention (nothing is ever deleted automatically)."""


@retention.command("report")
@click.option("--as-of", default=None, help="Date to report on (YYYY-MM-DD). Default: today.")
@click.option("--agency", "agency_ref", default=None, help="Agency id or exact name. Default: all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@data_dir_option
def retention_report(as_of: str | None, agency_ref: str | None, as_json: bool, data_dir: Path | None) -> None:
    """List closed family records whose retention period has ended and are due for review."""
    import json as _json
    from datetime import date

    from .clock import utcnow
    from .retention import report

    try:
        day = date.fromisoformat(as_of) if as_of else utcnow().date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--as-of") from None
    store = _store(_settings(data_dir))
    with store.read() as db:
        agency_id = _agency_id(db, agency_ref) if agency_ref else None
        due = report(db, store.keyring, day, agency_id)
    for d in due:
        row = {"agency_id": d.agency_id, "family_id": d.family_id, "retention_class": d.retention_class,
               "end_of_care": d.end_of_care.isoformat() if d.end_of_care else None,
               "review_on": d.review_on.isoformat() if d.review_on else None, "reason": d.reason,
               "driven_by_person": d.driven_by}
        click.echo(_json.dumps(row) if as_json else
                   f"{row['family_id']}  {row['retention_class']:<13} ended {row['end_of_care']}  "
                   f"review {row['review_on']}  ({row['reason']})")
    if not as_json:
        click.echo(f"{len(due)} record(s) due for review on {day.isoformat()}. Nothing has been deleted.")

if __name__ == "__main__":
    main()
