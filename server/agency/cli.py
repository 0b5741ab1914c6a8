"""``hearthside agency ...`` commands for integration clients and the file connector."""

from __future__ import annotations

import json
from pathlib import Path

import click


def register(group: click.Group, data_dir_option, store_of) -> None:
    """Add the integration commands to the ``agency`` group (called from server/cli.py)."""

    def _agency_id(db, ref: str) -> str:
        from ..storage.clients import agencies_matching

        ids = agencies_matching(db, ref)
        if len(ids) != 1:
            raise click.ClickException(f"No single agency matches {ref!r}.")
        return ids[0]

    def _fail(exc) -> click.ClickException:
        details = "; ".join(e.message for e in getattr(exc, "errors", []))
        return click.ClickException(f"{exc.detail} {details}".strip())

    from .webhook_cli import register as register_webhooks

    register_webhooks(group, data_dir_option, store_of, _agency_id, _fail)

    @group.command("create-client")
    @click.option("--agency", "agency_ref", required=True, help="Agency id or exact name.")
    @click.option("--name", required=True, help="The core system's name, e.g. 'SystmOne feed'.")
    @click.option("--scopes", default="feed:read", show_default=True,
                  help="Comma-separated: feed:read, families:read, families:write.")
    @click.option("--webhook-url", default=None, help="Where to send signed 'new feed items' notices.")
    @click.option("--identifier-system", default=None, help="URI of the agency's own identifiers.")
    @data_dir_option
    def create_client(agency_ref, name, scopes, webhook_url, identifier_system, data_dir) -> None:
        """Create an integration client. Its token (and webhook secret) are shown once."""
        from ..errors import DomainError
        from .clients import create_client as make

        store = store_of(data_dir)
        try:
            with store.write() as db:
                info, token, secret = make(db, store.keyring, _agency_id(db, agency_ref), name, scopes.split(","),
                                           webhook_url=webhook_url, identifier_system=identifier_system)
        except DomainError as exc:
            raise _fail(exc) from None
        click.echo(f"client_id: {info.id}")
        click.echo(f"scopes: {','.join(info.scopes)}")
        click.echo(f"token: {token}")
        if secret:
            click.echo(f"webhook_secret: {secret}")
        click.echo("Store the token now: it cannot be shown again.", err=True)

    @group.command("rotate-client")
    @click.argument("client_id")
    @data_dir_option
    def rotate_client(client_id, data_dir) -> None:
        """Issue a new token; the old one stops working at once."""
        from ..errors import DomainError
        from .clients import rotate_client as rotate

        store = store_of(data_dir)
        try:
            with store.write() as db:
                _, token = rotate(db, client_id)
        except DomainError as exc:
            raise _fail(exc) from None
        click.echo(f"token: {token}")

    @group.command("revoke-client")
    @click.argument("client_id")
    @data_dir_option
    def revoke_client(client_id, data_dir) -> None:
        """Revoke a client: its token is refused from the next request."""
        from ..errors import DomainError
        from .clients import revoke_client as revoke

        store = store_of(data_dir)
        try:
            with store.write() as db:
                revoke(db, client_id)
        except DomainError as exc:
            raise _fail(exc) from None
        click.echo(f"Revoked {client_id}.")

    @group.command("list-clients")
    @click.option("--agency", "agency_ref", default=None, help="Agency id or exact name.")
    @data_dir_option
    def list_clients(agency_ref, data_dir) -> None:
        """List integration clients (never their tokens)."""
        from .clients import list_clients as listing

        store = store_of(data_dir)
        with store.read() as db:
            rows = listing(db, _agency_id(db, agency_ref) if agency_ref else None)
        for c in rows:
            state = "revoked" if c.revoked_at else "active"
            click.echo(f"{c.id}  {state:<8} {','.join(c.scopes):<40} {c.name}")

    @group.command("unacknowledged")
    @click.option("--agency", "agency_ref", required=True, help="Agency id or exact name.")
    @data_dir_option
    def unacknowledged(agency_ref, data_dir) -> None:
        """Feed items each core system has not acknowledged, with their age (JSON)."""
        from .acks import unacknowledged as pending

        store = store_of(data_dir)
        with store.read() as db:
            click.echo(json.dumps(pending(db, store.keyring, _agency_id(db, agency_ref)), indent=2))

    @group.command("pull")
    @click.option("--url", required=True, help="The Hearthside server, e.g. https://hearthside.example.org")
    @click.option("--token", envvar="HEARTHSIDE_CLIENT_TOKEN", required=True,
                  help="Client token (or HEARTHSIDE_CLIENT_TOKEN).")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
    @click.option("--format", "fmt", type=click.Choice(["fhir", "json", "csv"]), default="fhir", show_default=True)
    @click.option("--limit", default=100, show_default=True, type=int, help="Items per page.")
    def pull(url, token, out_dir, fmt, limit) -> None:
        """Pull the feed into files in OUT (resuming from its saved cursor), then acknowledge."""
        import httpx

        from .connector import Connector

        try:
            stats = Connector(url, token, out_dir, fmt, limit=limit).run()
        except httpx.HTTPStatusError as exc:
            raise click.ClickException(
                f"The server answered {exc.response.status_code} to {exc.request.url.path}; nothing more was filed."
            ) from None
        except httpx.TransportError as exc:
            raise click.ClickException(f"Cannot reach the server ({type(exc).__name__}); run again later.") from None
        click.echo(json.dumps(stats))
