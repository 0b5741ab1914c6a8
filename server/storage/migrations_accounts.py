"""Accounts: sign-in back-off that cannot lock a person out, refresh rotation with a grace
and reuse detection, forced password changes and upload-only tokens for revoked phones."""

from __future__ import annotations

import sqlite_utils

from .migrations import migrations, run_script


@migrations(name="accounts_0001_backoff_rotation_password_change")
def accounts_backoff_rotation(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
-- Sign-in back-off, shared by every server process. ``key`` is a keyed hash of what is
-- counted (an account, an account with an address or a device, an address), so unknown
-- usernames (often mistyped passwords) are never stored as typed.
CREATE TABLE sign_in_backoff (
    key TEXT PRIMARY KEY,
    -- The account's own keyed hash (NULL for an address): an admin clears them together.
    account TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    -- Seconds since the epoch (arithmetic on them is the point).
    window_started REAL NOT NULL,
    last_failure REAL NOT NULL
) STRICT;
CREATE INDEX sign_in_backoff_last ON sign_in_backoff(last_failure);
CREATE INDEX sign_in_backoff_account ON sign_in_backoff(account);

-- Accounts are no longer locked by failed sign-ins (anyone could lock anyone out): the
-- old locks are lifted; the back-off above slows a guesser instead.
UPDATE users SET locked_at = NULL, failed_sign_ins = 0;

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

-- A refresh token swapped for a new pair is 'rotated' (not revoked): presented again
-- within the grace it gets the same pair once; after that it is a replay.
ALTER TABLE tokens ADD COLUMN rotated_at TEXT;
ALTER TABLE tokens ADD COLUMN replaced_by TEXT;
-- 'upload': a revoked phone's token, good for sync push and pull only.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'upload'));
CREATE INDEX tokens_user ON tokens(user_id);

-- The pair a rotation answered with, encrypted, kept only for the grace window so a
-- retry after a lost reply gets the same pair (and dropped once used or expired).
CREATE TABLE refresh_grace (
    token_hash TEXT PRIMARY KEY,
    pair TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
""",
    )
