"""Named, recorded migrations (sqlite-utils' ``Migrations``; each runs in a transaction
with the record of it having run). Never edit a migration that has shipped: add a new one.

Synced tables share a tail of columns that the record layer (``records.py``) maintains:
``version`` (bumped on every change of the row), ``field_meta`` (per-field version, hybrid
logical clock, writer and device, as JSON), ``deleted`` (a tombstone, never un-set).
Columns holding personal data contain ``e1.`` ciphertexts (see ``crypto.py``).
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("hearthside")

SYNCED_TAIL = """
    version INTEGER NOT NULL DEFAULT 1,
    field_meta TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
"""


@migrations(name="0001_initial_schema")
def initial_schema(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        f"""
CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'Europe/London',
    settings TEXT NOT NULL DEFAULT '{{}}',
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    team_id TEXT REFERENCES teams(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('practitioner', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    demo INTEGER NOT NULL DEFAULT 0,
    disabled_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX users_team ON users(team_id);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    escrow_key TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    last_seen_at TEXT,
    last_sync_at TEXT,
    revoked_at TEXT,
    revoked_by TEXT
) STRICT;
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL REFERENCES devices(id),
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX tokens_device ON tokens(device_id);

CREATE TABLE integration_clients (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE families (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL,
    team_id TEXT REFERENCES teams(id),
    family_name TEXT NOT NULL,
    address TEXT,
    postcode TEXT,
    phone TEXT,
    notes TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX families_agency_team ON families(agency_id, team_id);

CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    role TEXT NOT NULL CHECK (role IN ('child', 'unborn', 'mother', 'father', 'male-carer', 'partner', 'other-adult')),
    given_name TEXT,
    family_name TEXT,
    date_of_birth TEXT,
    expected_date TEXT,
    sex TEXT,
    nhs_number TEXT,
    nhs_number_index TEXT,
    ethnicity TEXT,
    language TEXT,
    interpreter_needed INTEGER NOT NULL DEFAULT 0,
    lives_in_household INTEGER NOT NULL DEFAULT 1,
    protection_plan INTEGER NOT NULL DEFAULT 0,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX persons_family ON persons(family_id);
CREATE INDEX persons_nhs_index ON persons(nhs_number_index);

CREATE TABLE relationships (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    adult_id TEXT NOT NULL REFERENCES persons(id),
    child_id TEXT NOT NULL REFERENCES persons(id),
    relationship TEXT NOT NULL,
    parental_responsibility INTEGER NOT NULL DEFAULT 0,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX relationships_family ON relationships(family_id);

CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    practitioner_id TEXT NOT NULL REFERENCES users(id),
    active INTEGER NOT NULL DEFAULT 1,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX allocations_practitioner ON allocations(practitioner_id, active);
CREATE INDEX allocations_family ON allocations(family_id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    practitioner_id TEXT NOT NULL REFERENCES users(id),
    type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in-progress', 'completed')),
    planned_for TEXT,
    started_at TEXT,
    completed_at TEXT,
    signed_by TEXT,
    no_access INTEGER NOT NULL DEFAULT 0,
    present TEXT,
    summary TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX visits_family ON visits(family_id, planned_for);

CREATE TABLE checklist_responses (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT NOT NULL REFERENCES visits(id),
    checklist_id TEXT NOT NULL,
    checklist_version TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    answer TEXT,
    note TEXT,
    seen_or_told TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX responses_visit ON checklist_responses(visit_id);

CREATE TABLE observations (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT REFERENCES visits(id),
    about_person_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('fact', 'judgement', 'child-words', 'parent-view', 'analysis')),
    text TEXT NOT NULL,
    supersedes_id TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX observations_family ON observations(family_id);

CREATE TABLE addenda (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT NOT NULL REFERENCES visits(id),
    text TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    {SYNCED_TAIL}
) STRICT;

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT,
    rule_id TEXT,
    subject_id TEXT,
    assignee_id TEXT REFERENCES users(id),
    due_at TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    note TEXT,
    completed_at TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX follow_ups_assignee ON follow_ups(assignee_id, status, due_at);
CREATE INDEX follow_ups_family ON follow_ups(family_id);

CREATE TABLE flags (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT,
    rule_id TEXT,
    subject_id TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('urgent', 'high', 'routine')),
    reason TEXT NOT NULL,
    answers TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed')),
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    decision TEXT,
    rationale TEXT,
    decided_by TEXT,
    decided_at TEXT,
    raised_by TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX flags_family ON flags(family_id, status);

CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    candidates TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TEXT,
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX conflicts_entity ON conflicts(entity, entity_id, field, status);

-- The change log's integer primary key is the sync cursor: assigned inside the write
-- transaction, so a reader paging by it can never skip a change committed later with an
-- earlier timestamp.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id TEXT NOT NULL,
    family_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    changes TEXT NOT NULL,
    actor_user_id TEXT,
    actor_device_id TEXT,
    actor_client_id TEXT,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX change_log_family ON change_log(family_id, seq);
CREATE INDEX change_log_agency ON change_log(agency_id, seq);

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    agency_id TEXT,
    user_id TEXT,
    device_id TEXT,
    client_id TEXT,
    action TEXT NOT NULL,
    entity TEXT,
    entity_id TEXT,
    family_id TEXT,
    purpose TEXT,
    detail TEXT NOT NULL DEFAULT '{{}}'
) STRICT;
CREATE INDEX audit_family ON audit_events(family_id, seq);
"""
    )


@migrations(name="push_0001_push_follow_ups_flags")
def push_0001(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
-- One web-push subscription per enrolled device. The endpoint and keys are secrets (the
-- endpoint is a capability URL): they are kept encrypted; the hash makes them unique.
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL UNIQUE REFERENCES devices(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    endpoint_hash TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

-- What is to be sent: one row per (reminder, subscription). The id is derived from the
-- reminder's key and the subscription, so planning the same reminder twice adds nothing
-- and a reminder reaches each device at most once.
CREATE TABLE push_outbox (
    id TEXT PRIMARY KEY,
    reminder_key TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT,
    count INTEGER NOT NULL DEFAULT 1,
    urgency TEXT NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    ttl INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
) STRICT;
CREATE INDEX push_outbox_due ON push_outbox(status, next_attempt_at);

-- Every sending attempt, kept for support and audit (no payloads: they are in the outbox
-- row's kind / ref_id / count, which carry no personal data anyway).
CREATE TABLE push_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    at TEXT NOT NULL,
    status_code INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'gone', 'failed', 'error')),
    retry_after_seconds REAL,
    holder TEXT
) STRICT;
CREATE INDEX push_attempts_outbox ON push_attempts(outbox_id, seq);

-- Only the holder of an unexpired lease runs the scheduler, so two server processes on
-- one database never both send.
CREATE TABLE scheduler_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

-- Completed visits whose rules have run on the server (the sweep's memory; the rule
-- outcome itself is idempotent through stable ids).
CREATE TABLE visit_outcomes (
    visit_id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL,
    follow_ups INTEGER NOT NULL,
    flags INTEGER NOT NULL
) STRICT;

CREATE INDEX flags_status ON flags(status, severity);
CREATE INDEX follow_ups_status_due ON follow_ups(status, due_at);
"""
    )


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Run several statements inside the migration's transaction. (``executescript``
    would commit first, so a failing migration could leave half a schema behind.)"""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError("incomplete SQL statement at the end of a migration")


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


@migrations(name="sync_0001_device_sequences_ops_quarantine")
def sync_device_sequences_ops_quarantine(db: sqlite_utils.Database) -> None:
    """Push bookkeeping: each device's last received ``client_seq`` (gap-free sequences),
    every op id received with the answer given (so a replay is answered, not re-applied),
    and rejected ops kept for an admin (the op itself encrypted: it may hold personal data)."""
    run_script(
        db,
        """
CREATE TABLE sync_devices (
    device_id TEXT PRIMARY KEY REFERENCES devices(id),
    last_client_seq INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE sync_ops (
    op_id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    client_id TEXT,
    client_seq INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected')),
    version INTEGER,
    field_version INTEGER,
    conflict_id TEXT,
    reason TEXT,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX sync_ops_device ON sync_ops(device_id, client_seq);

CREATE TABLE sync_quarantine (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    op_id TEXT,
    client_seq INTEGER,
    user_id TEXT,
    device_id TEXT,
    client_id TEXT,
    entity TEXT,
    entity_id TEXT,
    family_id TEXT,
    reason TEXT NOT NULL,
    op TEXT NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX sync_quarantine_agency ON sync_quarantine(agency_id, received_at);
""",
    )


@migrations(name="agency_0001_integration")
def agency_integration(db: sqlite_utils.Database) -> None:
    """Integration clients get rotation, webhooks and a default identifier system; agencies'
    own identifiers are mapped (encrypted, with a blind index for exact look-up); feed
    acknowledgements and webhook deliveries are recorded."""
    run_script(
        db,
        """
ALTER TABLE integration_clients ADD COLUMN token_prefix TEXT;
ALTER TABLE integration_clients ADD COLUMN rotated_at TEXT;
ALTER TABLE integration_clients ADD COLUMN last_used_at TEXT;
ALTER TABLE integration_clients ADD COLUMN webhook_url TEXT;
ALTER TABLE integration_clients ADD COLUMN webhook_secret TEXT;
ALTER TABLE integration_clients ADD COLUMN identifier_system TEXT;
CREATE INDEX integration_clients_agency ON integration_clients(agency_id);

CREATE TABLE external_ids (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    value_index TEXT NOT NULL,
    client_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (agency_id, entity, system, value_index)
) STRICT;
CREATE INDEX external_ids_entity ON external_ids(entity, entity_id);

CREATE TABLE feed_acks (
    client_id TEXT NOT NULL REFERENCES integration_clients(id),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    item_type TEXT NOT NULL,
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    external_id TEXT,
    acked_at TEXT NOT NULL,
    PRIMARY KEY (client_id, item_type, item_id, version)
) STRICT;

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES integration_clients(id),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    up_to_seq INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
""",
    )


@migrations(name="security_0001_audit_chain_lockout_sessions_rotation")
def security_audit_chain(db: sqlite_utils.Database) -> None:
    """Tamper-evident audit chain, account lock-out, absolute session lifetime and the
    key rotation progress marker (see ``server/security``)."""
    run_script(
        db,
        """
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

-- Defence in depth: the application never edits or removes an audit entry. (Someone who
-- can drop these triggers can also edit the file; the keyed hash chain catches that.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_at TEXT;

-- When the sign-in that started this chain of refresh tokens happened: refreshing never
-- extends a session past its absolute lifetime.
ALTER TABLE tokens ADD COLUMN session_started_at TEXT;

CREATE TABLE key_rotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_kid TEXT NOT NULL,
    -- Progress marker: the column spec being swept and the last rowid done in it.
    spec_index INTEGER NOT NULL DEFAULT 0,
    last_rowid INTEGER NOT NULL DEFAULT 0,
    reencrypted INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
) STRICT;
"""
    )


# Later migrations live beside this file; importing registers them, in order.
from . import migrations_model  # noqa: E402,F401
