"""``hearthside agency webhooks|resend-webhook|rotate-webhook-secret|set-webhook-url|resume-webhook``."""

from __future__ import annotations

import json
from datetime import timedelta

import click
import msgspec


def register(group: click.Group, data_dir_option, store_of, agency_id_of, fail) -> None:
    def _run(data_dir, action):
        from ..errors import DomainError

        store = store_of(data_dir)
        try:
            with store.write() as db:
                return action(db, store)
        except DomainError as exc:
            raise fail(exc) from None

    def _echo(obj) -> None:
        click.echo(json.dumps(msgspec.to_builtins(obj), indent=2))

    @group.command("webhooks")
    @click.option("--agency", "agency_ref", required=True, help="Agency id or exact name.")
    @click.option("--status", type=click.Choice(["pending", "failed", "delivered"]), default=None)
    @data_dir_option
    def webhooks(agency_ref, status, data_dir) -> None:
        """Webhook deliveries (JSON): status, paused destination, next retry, every attempt."""
        from .webhook_admin import deliveries

        _echo(_run(data_dir, lambda db, _s: deliveries(db, agency_id_of(db, agency_ref), status)))

    @group.command("resend-webhook")
    @click.argument("delivery_id")
    @data_dir_option
    def resend_webhook(delivery_id, data_dir) -> None:
        """Send a delivery again now (same webhook-id) and resume its destination."""
        from .webhook_admin import resend

        _echo(_run(data_dir, lambda db, _s: resend(db, None, delivery_id)))

    @group.command("rotate-webhook-secret")
    @click.argument("client_id")
    @click.option("--overlap-hours", default=24, show_default=True, type=click.IntRange(0, 168),
                  help="How long the old secret keeps signing beside the new one.")
    @data_dir_option
    def rotate_webhook_secret(client_id, overlap_hours, data_dir) -> None:
        """A new whsec_ secret, shown once; both sign until the overlap ends."""
        from .webhook_admin import rotate_secret

        dest = _run(data_dir, lambda db, s: rotate_secret(db, s.keyring, None, client_id,
                                                          timedelta(hours=overlap_hours)))
        click.echo(f"webhook_secret: {dest.secret}")
        click.echo(f"previous_secret_until: {dest.previous_secret_until}")

    @group.command("set-webhook-url")
    @click.argument("client_id")
    @click.argument("url")
    @data_dir_option
    def set_webhook_url(client_id, url, data_dir) -> None:
        """Change where a client's notices go (resumes a paused destination)."""
        from .webhook_admin import set_url

        dest = _run(data_dir, lambda db, s: set_url(db, s.keyring, None, client_id, url))
        click.echo(f"webhook_url: {dest.url}")
        if dest.secret:
            click.echo(f"webhook_secret: {dest.secret}")

    @group.command("resume-webhook")
    @click.argument("client_id")
    @data_dir_option
    def resume_webhook(client_id, data_dir) -> None:
        """Resume a destination paused after persistent failure."""
        from .webhook_admin import resume

        _run(data_dir, lambda db, _s: resume(db, None, client_id))
        click.echo(f"Resumed {client_id}.")
