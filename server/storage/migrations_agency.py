"""Agency integration migrations after ``agency_0001_integration``."""

from __future__ import annotations

import sqlite_utils

from .migrations import migrations, run_script


@migrations(name="agency_0002_standard_webhooks")
def standard_webhooks(db: sqlite_utils.Database) -> None:
    """Standard Webhooks: a previous secret kept (and signed with) until its overlap ends, a
    destination paused after persistent failure, and per-round attempt counts so a resend
    starts its backoff afresh while the attempt log keeps every try.

    Secrets stored before this migration are plain strings, not ``whsec_``: they stay as
    they are and keep signing with the same key bytes (the string's UTF-8), so a receiver
    that was given one keeps verifying (see docs/integration.md, "Webhooks")."""
    run_script(db, """
ALTER TABLE integration_clients ADD COLUMN webhook_previous_secret TEXT;
ALTER TABLE integration_clients ADD COLUMN webhook_previous_until TEXT;
ALTER TABLE integration_clients ADD COLUMN webhook_paused_at TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN round_attempts INTEGER NOT NULL DEFAULT 0;
UPDATE webhook_deliveries SET round_attempts = attempts;
""")
