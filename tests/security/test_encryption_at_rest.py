"""A stolen database file, its WAL or SHM, a backup, the server's log or anything else in
the data directory reveals no names, notes or children's words: every personal column
holds only ciphertext.

The scan looks only for long, distinctive sentinels these tests write themselves: short
demo names (four letters) turn up inside base64 ciphertext by chance, which made the scan
fail now and then for nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from server import demo
from server.backup import backup
from server.ids import new_id
from server.storage import records
from server.storage.crypto import is_encrypted
from server.storage.records import ENTITIES, Actor
from tests.conftest import LiveServer
from tests.sync.device import Phone

from .conftest import cli

SENTINEL_WORDS = "Zebracorn said the kitchen light frightens her"
SENTINEL_FACT = "Quillfeather bruise noted on the left forearm"
SENTINEL_DECISION = "Marrowgate strategy discussion to be convened"
# Each at least 20 characters and made of words no base64 run or demo text holds.
SENTINEL_FAMILY = "Wolverhampstead-Quorn"
SENTINEL_ADDRESS = "17 Brindlethorpe Mews, Upper Snoddington"
SENTINEL_NOTES = "Grandmother Pellingworth visits on Tuesdays"
SENTINEL_GIVEN = "Ottoline-Zephyrine"
SENTINEL_RELATIONSHIP = "Mum's boyfriend Cormoran, stays most nights"
SENTINEL_DEVICE = "Jessamyn Thistlewood's work phone"
SENTINEL_REFUSED = "Refused-op text Vantablack Oriel sentinel"


def demo_plaintexts() -> set[str]:
    """The sentinels as they would appear in clear (the demo data is seeded around them
    for volume, but not scanned for: see the module's note)."""
    return {SENTINEL_WORDS, SENTINEL_FACT, SENTINEL_DECISION}


LIVE_SENTINELS = {SENTINEL_FAMILY, SENTINEL_ADDRESS, SENTINEL_NOTES, SENTINEL_GIVEN, SENTINEL_RELATIONSHIP,
                  SENTINEL_DEVICE, SENTINEL_WORDS, SENTINEL_REFUSED}


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


def _write_sentinels_through_a_live_server(server: LiveServer) -> str:
    """Personal data as staff enter it: REST, sync (one op refused and quarantined, so
    the log's warning is scanned too) and a device name at sign-in."""
    admin = server.login("admin1", device_name=SENTINEL_DEVICE)
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    family = str(uuid.uuid4())
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        r = http.post("/api/v1/families", json={"id": family, "family_name": SENTINEL_FAMILY,
                                                "address": SENTINEL_ADDRESS, "notes": SENTINEL_NOTES})
        assert r.status_code in (200, 201), r.text
        phone = Phone(http, "admin1", "demo-password")
        child = phone.model.create("person", family, {"role": "child", "given_name": SENTINEL_GIVEN})["entity_id"]
        adult = phone.model.create("person", family, {"role": "male-carer"})["entity_id"]
        phone.model.create("relationship", family, {"adult_id": adult, "child_id": child,
                                                    "relationship": SENTINEL_RELATIONSHIP})
        phone.model.create("observation", family, {"kind": "child-words", "about_person_id": child,
                                                   "text": SENTINEL_WORDS})
        phone.model.create("observation", family, {"kind": "gossip", "text": SENTINEL_REFUSED})
        statuses = [r["status"] for r in phone.push()["results"]]
        assert statuses == ["applied"] * 4 + ["rejected"], statuses
    return family


def test_a_live_servers_database_wal_shm_backup_log_and_data_directory_hold_no_sentinel_in_clear(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        family = _write_sentinels_through_a_live_server(server)
        backup_file = Path(cli("backup", str(tmp_path / "backups"), data_dir=server.data_dir, check=True)
                           .stdout.splitlines()[0])
        db = server.data_dir / "hearthside.db"
        # Scanned while the server runs, so the newest pages are still in the WAL.
        live = {p: p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))}
        assert len(live[Path(f"{db}-wal")]) > 0
    finally:
        server.stop()
    files = {**live, backup_file: backup_file.read_bytes(), Path(server.log.name): Path(server.log.name).read_bytes()}
    for root in (server.data_dir, tmp_path / "data-audit", tmp_path / "backups"):
        files.update({p: p.read_bytes() for p in root.rglob("*") if p.is_file()})
    assert backup_file.stat().st_size > 100_000 and len(files) >= 7
    found = {str(p): _find_clear(blob, LIVE_SENTINELS) for p, blob in files.items()}
    assert {p: f for p, f in found.items() if f} == {}
    # The scan can fail: the sentinels are in the database, readable with the keyring.
    from server.settings import Settings
    from server.storage.crypto import Keyring
    from server.storage.db import Database

    store = Database(db, Keyring.load_or_create(Settings.from_env(data_dir=server.data_dir).keyring_path))
    with store.read() as conn:
        texts = {r["relationship"] for r in records.find(conn, store.keyring, "relationship", "family_id = ?",
                                                         [family])}
        names = {r["given_name"] for r in records.find(conn, store.keyring, "person", "family_id = ?", [family])}
    store.close()
    assert SENTINEL_RELATIONSHIP in texts and SENTINEL_GIVEN in names


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
        "relationship": {"relationship"},
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
