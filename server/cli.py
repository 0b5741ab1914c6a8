"""The ``hearthside`` command line. Every command that touches data takes ``--data-dir``
(default: ``HEARTHSIDE_DATA_DIR``, then ``./data``)."""

from __future__ import annotations

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

    # access_log off: request lines carry ids in paths and query strings; keep logs free
    # of anything that could identify a family.
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="warning")


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
    from .storage.migrations import apply_migrations

    from .storage.crypto import Keyring
    from .storage.db import Database

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Database(settings.db_path, Keyring.load_or_create(settings.keyring_path, settings.keyring))
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

    store = _store(_settings(data_dir))
    with store.write() as db:
        agency_id = new_id()
        db["agencies"].insert({"id": agency_id, "name": name, "timezone": timezone, "settings": "{}",
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

    store = _store(_settings(data_dir))
    with store.write() as db:
        agency_id = _agency_id(db, agency_ref)
        team_id = new_id()
        db["teams"].insert({"id": team_id, "agency_id": agency_id, "name": name, "created_at": now_iso()})
    click.echo(team_id)


from .agency.cli import register as _register_agency_integration  # noqa: E402

_register_agency_integration(agency, data_dir_option, lambda data_dir: _store(_settings(data_dir)))


def _agency_id(db, ref: str) -> str:
    rows = list(db.query("SELECT id FROM agencies WHERE id = ? OR name = ?", [ref, ref]))
    if len(rows) != 1:
        raise click.ClickException(f"No single agency matches {ref!r}.")
    return rows[0]["id"]


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

    store = _store(_settings(data_dir))
    with store.write() as db:
        rows = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
        if not rows:
            raise click.ClickException(f"No user {username!r}.")
        set_user_disabled(db, rows[0], True, {"agency_id": rows[0]["agency_id"], "purpose": "cli"})
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

    store = _store(_settings(data_dir))
    try:
        with store.write() as db:
            rows = list(db.query("SELECT agency_id FROM devices WHERE id = ?", [device_id]))
            revoke_device(db, device_id, {"agency_id": rows[0]["agency_id"] if rows else None, "purpose": "cli"})
    except NotFound:
        raise click.ClickException(f"No device {device_id!r}.") from None
    click.echo(f"Revoked {device_id}.")


from .content.cli import content  # noqa: E402

main.add_command(content)


if __name__ == "__main__":
    main()
