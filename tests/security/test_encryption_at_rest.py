"""A stolen database file, its WAL or a backup reveals no names, notes or children's
words: every personal column holds only ciphertext."""

from __future__ import annotations

from pathlib import Path

from server import demo
from server.backup import backup
from server.ids import new_id
from server.storage import records
from server.storage.crypto import is_encrypted
from server.storage.records import ENTITIES, Actor

SENTINEL_WORDS = "Zebracorn said the kitchen light frightens her"
SENTINEL_FACT = "Quillfeather bruise noted on the left forearm"
SENTINEL_DECISION = "Marrowgate strategy discussion to be convened"


def demo_plaintexts() -> set[str]:
    """The demo data's names, addresses, notes and follow-up texts, as they would
    appear in clear."""
    out: set[str] = set()
    for fam in demo.FAMILIES:
        out |= {fam["name"], fam["address"], fam["postcode"]}
        if fam["note"]:
            out.add(fam["note"])
        for _, _, given, surname, _, _ in fam["people"]:
            out |= {given, surname}
    # Names shorter than 4 letters can occur by chance inside base64 ciphertext.
    return {s for s in out if len(s) >= 4} | {
        "Contact the family after the second no-access visit", "Two no-access visits within 28 days",
        SENTINEL_WORDS, SENTINEL_FACT, SENTINEL_DECISION,
    }


def _seed(store) -> None:
    demo.seed_demo(store)
    with store.write() as db:
        fam = next(db.query("SELECT id, agency_id FROM families ORDER BY id LIMIT 1"))
        child = next(db.query("SELECT id FROM persons WHERE family_id = ? LIMIT 1", [fam["id"]]))["id"]
        base = {"agency_id": fam["agency_id"], "family_id": fam["id"], "recorded_by": "u", "recorded_at": "2026-01-01"}
        actor = Actor(user_id="u", device_id="d")
        records.insert(db, store.keyring, "observation", {"id": new_id(), **base, "about_person_id": child,
                                                          "kind": "child-words", "text": SENTINEL_WORDS}, actor)
        records.insert(db, store.keyring, "observation", {"id": new_id(), **base, "about_person_id": child,
                                                          "kind": "fact", "text": SENTINEL_FACT}, actor)
        flag = next(db.query("SELECT id FROM flags LIMIT 1"))["id"]
        records.update(db, store.keyring, "flag", flag, {"decision": SENTINEL_DECISION, "rationale": SENTINEL_FACT},
                       actor)


def _find_clear(blob: bytes, needles: set[str]) -> list[str]:
    found = []
    for n in needles:
        for form in (n.encode(), n.encode("utf-16-le")):
            if form in blob:
                found.append(n)
    return found


def test_database_wal_and_backup_hold_no_personal_data_in_clear(store, tmp_path: Path):
    _seed(store)
    needles = demo_plaintexts()
    db_file, wal_file = store.path, Path(str(store.path) + "-wal")
    # The connection is still open, so recent pages are in the WAL, not yet checkpointed.
    assert wal_file.exists() and wal_file.stat().st_size > 0
    backup_file, _ = backup(store.path, tmp_path / "backups")
    assert wal_file.stat().st_size + db_file.stat().st_size > 100_000
    assert backup_file.stat().st_size > 100_000
    for path in (db_file, wal_file, backup_file):
        assert _find_clear(path.read_bytes(), needles) == [], path.name
    # And once the WAL is folded into the main file.
    with store.write() as db:
        pass
    store.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert db_file.stat().st_size > 100_000
    assert _find_clear(db_file.read_bytes(), needles) == []
    # The scan can fail: the sentinels are really there, decryptable with the keyring.
    with store.read() as db:
        texts = {o["text"] for o in records.find(db, store.keyring, "observation")}
    assert {SENTINEL_WORDS, SENTINEL_FACT} <= texts


def test_every_declared_personal_column_holds_only_ciphertext(store):
    _seed(store)
    with store.read() as db:
        for entity in ENTITIES.values():
            for column in entity.personal:
                for (value,) in db.execute(f"SELECT [{column}] FROM [{entity.table}] WHERE [{column}] IS NOT NULL"):
                    assert is_encrypted(value), f"{entity.table}.{column}"
        for (value,) in db.execute("SELECT changes FROM change_log"):
            assert is_encrypted(value)
        # The NHS number is found through its keyed blind index, never in clear.
        for row in db.query("SELECT nhs_number, nhs_number_index FROM persons WHERE nhs_number IS NOT NULL"):
            assert is_encrypted(row["nhs_number"]) and len(row["nhs_number_index"]) == 64


def test_the_personal_columns_cover_names_dates_addresses_ids_notes_words_and_decisions():
    required = {
        "family": {"family_name", "address", "postcode", "phone", "notes"},
        "person": {"given_name", "family_name", "date_of_birth", "expected_date", "nhs_number"},
        "visit": {"summary", "present"},
        "checklist_response": {"answer", "note"},
        "observation": {"text"},
        "addendum": {"text"},
        "follow_up": {"text", "note"},
        "flag": {"reason", "answers", "decision", "rationale"},
        "conflict": {"candidates", "resolution"},
    }
    for entity, columns in required.items():
        assert columns <= ENTITIES[entity].personal, entity
