"""Security migrations after the model's: audit alerts, and personal text that was still
stored in clear (a relationship's wording such as "mum's boyfriend", a device's name
such as "Jane's phone") encrypted in place under the keyring.
"""

from __future__ import annotations

import sqlite_utils

from .crypto import is_encrypted
from .migrations import migrations, run_script


def _encrypt_column(db: sqlite_utils.Database, table: str, column: str) -> None:
    keyring = getattr(db, "keyring", None)
    if keyring is None:
        raise RuntimeError("this migration encrypts existing values: run it through open_store (it has the keyring)")
    for row_id, value in db.execute(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall():
        if not is_encrypted(value):
            sealed = keyring.encrypt(str(value).encode(), f"{table}/{row_id}/{column}")
            db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", [sealed, row_id])


@migrations(name="security_0002_audit_alerts_encrypted_relationships_and_device_names")
def audit_alerts_and_encrypted_names(db: sqlite_utils.Database) -> None:
    run_script(db, """
-- An entry for the supervisors of team_id and the agency's admins (a flag deleted, a
-- device revoked). Both are sealed in the entry's hash when set.
ALTER TABLE audit_events ADD COLUMN alert INTEGER;
ALTER TABLE audit_events ADD COLUMN team_id TEXT;
CREATE INDEX audit_events_alerts ON audit_events(agency_id, seq) WHERE alert = 1;
""")
    # Same additional data as the record layer (table/id/column) and devices.escrow_key.
    _encrypt_column(db, "relationships", "relationship")
    _encrypt_column(db, "devices", "name")
