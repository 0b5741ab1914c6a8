"""``hearthside audit``: the tamper-evident audit trail, checked against its anchor."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


def register(main: click.Group, data_dir_option, settings_for, store_for) -> None:
    main.add_command(audit_group)
    audit_group.command("verify")(data_dir_option(audit_verify(settings_for, store_for)))


def audit_verify(settings_for, store_for):
    def verify_cmd(data_dir: Path | None) -> None:
        """Check every audit entry against the keyed hash chain, and the chain's end against
        the anchor outside the database; exits 1 naming each entry that was changed or
        deleted, a trail cut off at its end, wiped, or rolled back to an older copy."""
        from .audit import verify

        settings = settings_for(data_dir)
        store = store_for(settings)
        with store.read() as db:
            result = verify(db, store.keyring, settings.anchor_path)
        for note in result.notes:
            click.echo(f"Note: {note}")
        if result.ok:
            click.echo(f"Audit trail intact: {result.entries} entries; head {result.head}")
            return
        for problem in result.problems:
            click.echo(problem, err=True)
        click.echo(f"Audit trail FAILED verification ({len(result.problems)} problem(s) in {result.entries} entries).",
                   err=True)
        sys.exit(1)

    return verify_cmd
