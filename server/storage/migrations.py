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
