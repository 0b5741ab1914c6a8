"""Migrations that bring the schema to the one declared model (``sync.model``).

The first schema wrote the model down a second time and drifted from it: the observation
kind ``judgement`` where the model, the content and the PWA say ``professional-judgement``;
a checklist version held as text where the phone sends a number; observations and addenda
tied by a foreign key to a visit that another writer may delete meanwhile (which refused
them, so lost them). Tables no other table references are rebuilt here with CHECK
constraints generated from the model; ``tests/foundation/test_model.py`` fails whenever
a live constraint and the model disagree, so a new choice needs a new migration.
"""

from __future__ import annotations

import uuid

import sqlite_utils

from sync.model import ENTITIES, Field

from .migrations import SYNCED_TAIL, migrations, run_script


def choice_check(f: Field) -> str:
    values = ", ".join("'" + v.replace("'", "''") + "'" for v in f.values)
    return f"CHECK ({f.name} IN ({values}))"


def _rebuild(db: sqlite_utils.Database, table: str, create_sql: str, columns: str, select: str) -> None:
    """SQLite cannot change a column's constraint in place: copy into a new table. (No
    other table references these, so the rename leaves no foreign key dangling.)"""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                              " AND sql IS NOT NULL", [table]).fetchall():
        db.execute(f"DROP INDEX {name}")
    run_script(db, f"ALTER TABLE {table} RENAME TO {table}_old;\n{create_sql}\n"
                   f"INSERT INTO {table} ({columns}) SELECT {select} FROM {table}_old;\nDROP TABLE {table}_old;\n")


@migrations(name="model_0001_one_model")
def one_model(db: sqlite_utils.Database) -> None:
    kind = ENTITIES["observation"].field("kind")
    attention = ENTITIES["observation"].field("attention")
    seen = ENTITIES["checklist_response"].field("seen_or_told")
    assert kind and attention and seen
    attention_check = choice_check(attention).replace("CHECK (", "CHECK (attention IS NULL OR ")
    _rebuild(db, "observations", f"""
CREATE TABLE observations (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT,
    about_person_id TEXT,
    kind TEXT NOT NULL {choice_check(kind)},
    text TEXT NOT NULL,
    supersedes_id TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    attention TEXT {attention_check},
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX observations_family ON observations(family_id);""",
        "id, agency_id, family_id, visit_id, about_person_id, kind, text, supersedes_id, recorded_by, recorded_at,"
        " device_id, version, field_meta, deleted, created_at, updated_at",
        "id, agency_id, family_id, visit_id, about_person_id,"
        " CASE kind WHEN 'judgement' THEN 'professional-judgement' ELSE kind END, text, supersedes_id, recorded_by,"
        " recorded_at, device_id, version, field_meta, deleted, created_at, updated_at")
    _rebuild(db, "addenda", f"""
CREATE TABLE addenda (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT NOT NULL,
    text TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    attention TEXT {attention_check},
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX addenda_visit ON addenda(visit_id);""",
        "id, agency_id, family_id, visit_id, text, recorded_by, recorded_at, device_id, version, field_meta, deleted,"
        " created_at, updated_at",
        "id, agency_id, family_id, visit_id, text, recorded_by, recorded_at, device_id, version, field_meta, deleted,"
        " created_at, updated_at")
    _rebuild(db, "checklist_responses", f"""
CREATE TABLE checklist_responses (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    family_id TEXT NOT NULL REFERENCES families(id),
    visit_id TEXT NOT NULL REFERENCES visits(id),
    checklist_id TEXT NOT NULL,
    checklist_version INTEGER NOT NULL,
    subject_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    answer TEXT,
    note TEXT,
    seen_or_told TEXT {choice_check(seen).replace("CHECK (", "CHECK (seen_or_told IS NULL OR ")},
    {SYNCED_TAIL}
) STRICT;
CREATE INDEX responses_visit ON checklist_responses(visit_id);""",
        "id, agency_id, family_id, visit_id, checklist_id, checklist_version, subject_id, item_id, answer, note,"
        " seen_or_told, version, field_meta, deleted, created_at, updated_at",
        "id, agency_id, family_id, visit_id, checklist_id, CAST(checklist_version AS INTEGER), subject_id, item_id,"
        " answer, note, seen_or_told, version, field_meta, deleted, created_at, updated_at")
    # The answer first given to each op, whole (a duplicate repeats it), and 'held' ops.
    _rebuild(db, "sync_ops", """
CREATE TABLE sync_ops (
    op_id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    client_id TEXT,
    client_seq INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('applied', 'conflict', 'rejected', 'held')),
    version INTEGER,
    field_version INTEGER,
    conflict_id TEXT,
    reason TEXT,
    value TEXT,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX sync_ops_device ON sync_ops(device_id, client_seq);""",
        "op_id, agency_id, user_id, device_id, client_id, client_seq, status, version, field_version, conflict_id,"
        " reason, received_at",
        "op_id, agency_id, user_id, device_id, client_id, client_seq, status, version, field_version, conflict_id,"
        " reason, received_at")
    run_script(db, """
-- Ops held, not refused: a family briefly out of the writer's reach (applied when it
-- comes back), or a revoked phone's upload (applied when a supervisor accepts it).
CREATE TABLE sync_held (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    op_id TEXT NOT NULL UNIQUE,
    client_seq INTEGER NOT NULL DEFAULT 0,
    user_id TEXT,
    device_id TEXT,
    client_id TEXT,
    entity TEXT,
    entity_id TEXT,
    family_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('out-of-reach', 'device-revoked')),
    reason TEXT NOT NULL,
    op TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'applied', 'declined')),
    result TEXT,
    decided_by TEXT,
    decided_at TEXT,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX sync_held_user_family ON sync_held(user_id, family_id, status);
CREATE INDEX sync_held_agency ON sync_held(agency_id, status, received_at);

-- The change log's identity: a cursor names the log it was taken from, so a phone whose
-- cursor belongs to a log since replaced (a restore from backup) resynchronises.
CREATE TABLE sync_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
""")
    db.execute("INSERT INTO sync_meta (key, value) VALUES ('log_epoch', ?)", [str(uuid.uuid4())])


@migrations(name="clinical_0001_person_mobility")
def person_mobility(db: sqlite_utils.Database) -> None:
    # No CHECK here: persons is referenced by relationships, so a later change of the
    # model's stages could not rebuild it; the merge holds the value to the model.
    run_script(db, "ALTER TABLE persons ADD COLUMN mobility TEXT;\n")


# Later migrations live beside this file; importing registers them, in order.
from . import migrations_security  # noqa: E402,F401
from . import migrations_accounts  # noqa: E402,F401
from . import migrations_record  # noqa: E402,F401
from . import migrations_agency  # noqa: E402,F401
