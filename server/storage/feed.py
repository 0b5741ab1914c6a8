"""What the agency feed, its acknowledgements and the FHIR read API read: the change log in
``seq`` order, the entry that made a record's version, a visit's own records, the staff an
item names, and the core systems' acknowledgements (``feed_acks``)."""

from __future__ import annotations

from typing import Any

from . import records
from .crypto import Keyring
from .tx import Tx

# -- the change log -----------------------------------------------------------------------


def entries_after(db: Tx, agency_id: str, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` of the agency's change-log entries after ``cursor``, in order."""
    return list(db.query(
        "SELECT seq, entity, entity_id, family_id, version, at, actor_client_id FROM change_log"
        " WHERE agency_id = ? AND seq > ? ORDER BY seq LIMIT ?", [agency_id, cursor, limit]))


def has_entries_after(db: Tx, agency_id: str, seq: int) -> bool:
    return db.execute("SELECT 1 FROM change_log WHERE agency_id = ? AND seq > ? LIMIT 1",
                      [agency_id, seq]).fetchone() is not None


def entry_seq(db: Tx, family_id: str | None, entity: str, entity_id: str, version: int) -> int | None:
    """The change-log position at which a record reached ``version`` (None: not logged)."""
    # Two statements rather than one null-safe comparison: each can use the family index.
    family = "family_id IS NULL" if family_id is None else "family_id = ?"
    args = ([] if family_id is None else [family_id]) + [entity, entity_id, version]
    row = db.execute(f"SELECT seq FROM change_log WHERE {family} AND entity = ? AND entity_id = ? AND version = ?"
                     " ORDER BY seq DESC LIMIT 1", args).fetchone()
    return int(row[0]) if row else None


def entry_at(db: Tx, seq: int) -> str:
    """When the change-log entry at ``seq`` was made."""
    return db.execute("SELECT at FROM change_log WHERE seq = ?", [seq]).fetchone()[0]


# -- records an item is built from --------------------------------------------------------


def raised_during(db: Tx, entity: str, visit_id: str) -> list[dict[str, Any]]:
    """The flags or follow-ups (``entity``) raised at a visit: id, version and family_id."""
    table = records.ENTITIES[entity].table
    return list(db.query(f"SELECT id, version, family_id FROM {table} WHERE visit_id = ? ORDER BY id", [visit_id]))


def visit_responses(db: Tx, keyring: Keyring, visit_id: str) -> list[dict[str, Any]]:
    """A visit's checklist answers, by checklist, subject and item."""
    return records.find(db, keyring, "checklist_response", "visit_id = ?", [visit_id],
                        order_by="checklist_id, subject_id, item_id")


def visit_observations(db: Tx, keyring: Keyring, visit_id: str) -> list[dict[str, Any]]:
    return records.find(db, keyring, "observation", "visit_id = ?", [visit_id], order_by="recorded_at, id")


def relationships_of(db: Tx, keyring: Keyring, person_id: str) -> list[dict[str, Any]]:
    """Every relationship (ended ones too) in which the person is the adult or the child."""
    return records.find(db, keyring, "relationship", "adult_id = ? OR child_id = ?", [person_id, person_id],
                        include_deleted=True)


def staff_member(db: Tx, user_id: str, agency_id: str | None = None) -> dict[str, Any] | None:
    """A user as an item names them (id, username, display_name, role); given
    ``agency_id``, only one of that agency's."""
    sql, args = "SELECT id, username, display_name, role FROM users WHERE id = ?", [user_id]
    if agency_id is not None:
        sql, args = sql + " AND agency_id = ?", [user_id, agency_id]
    rows = list(db.query(sql, args))
    return rows[0] if rows else None


def observation_visit(db: Tx, observation_id: str) -> str | None:
    """The visit an observation was made during (None: none, or no such observation)."""
    row = db.execute("SELECT visit_id FROM observations WHERE id = ?", [observation_id]).fetchone()
    return row[0] if row else None


def response_sets(db: Tx, agency_id: str) -> list[dict[str, Any]]:
    """Each (visit, checklist, checklist version, subject) the agency has answers for."""
    return list(db.query("SELECT DISTINCT visit_id, checklist_id, checklist_version, subject_id"
                         " FROM checklist_responses WHERE agency_id = ?", [agency_id]))


# -- acknowledgements ---------------------------------------------------------------------


def item_version(db: Tx, entity: str, item_id: str, agency_id: str) -> int | None:
    """The current version of one of the agency's records (None: no such record)."""
    table = records.ENTITIES[entity].table
    row = db.execute(f"SELECT version FROM {table} WHERE id = ? AND agency_id = ?", [item_id, agency_id]).fetchone()
    return int(row[0]) if row else None


def add_ack(db: Tx, client_id: str, agency_id: str, item_type: str, item_id: str, version: int,
            external_id: str | None, at: str) -> bool:
    """Record that a client filed an item's version; False when it had already said so."""
    cur = db.execute(
        "INSERT INTO feed_acks (client_id, agency_id, item_type, item_id, version, external_id, acked_at)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT (client_id, item_type, item_id, version) DO NOTHING",
        [client_id, agency_id, item_type, item_id, version, external_id, at])
    return cur.rowcount == 1


def acked(db: Tx, client_id: str) -> set[tuple[str, str, int]]:
    """(item type, id, version) of everything the client has acknowledged."""
    return {(r[0], r[1], r[2]) for r in db.execute(
        "SELECT item_type, item_id, version FROM feed_acks WHERE client_id = ?", [client_id]).fetchall()}
