"""The audit trail is append-only and tamper-evident, and admins can read a family's
access history."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from server import audit
from tests.factories import auth, login

from .conftest import cli


def _tamper(db_path, *sql_and_params) -> None:
    """What someone with the database file (but not the keyring) can do: drop the
    triggers and edit rows directly."""
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("DROP TRIGGER audit_events_no_delete")
    for sql, params in sql_and_params:
        conn.execute(sql, params)
    conn.commit()
    conn.close()


@pytest.fixture
def trail(client, store, world, settings):
    """A handful of real audited actions through the API."""
    admin = login(client, "admin_a")
    prac = login(client, "prac_a1")
    client.get("/api/v1/families", headers=auth(prac))
    client.get("/api/v1/families/" + world.families["own"], headers=auth(prac))
    client.patch("/api/v1/families/" + world.families["own"], json={"notes": "x"},
                 headers={**auth(admin), "If-Match": '"1"'})
    with store.read() as db:
        assert audit.verify(db, store.keyring).ok
        seqs = [r["seq"] for r in db.query("SELECT seq FROM audit_events ORDER BY seq")]
    assert len(seqs) >= 5
    store.close()
    return seqs


def test_intact_trail_verifies(trail, settings):
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"{len(trail)} entries" in result.stdout


def test_changing_one_byte_of_an_entry_fails_verification_and_names_it(trail, settings):
    victim = trail[2]
    _tamper(settings.db_path, ("UPDATE audit_events SET action = 'family-reaf' WHERE seq = ?", [victim]))
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"audit entry {victim} was changed" in result.stderr
    assert "was changed" not in result.stderr.replace(f"audit entry {victim} was changed", "")


def test_changing_who_did_it_fails_verification(trail, settings, world):
    victim = trail[3]
    _tamper(settings.db_path, ("UPDATE audit_events SET user_id = ? WHERE seq = ?", [world.users["admin_b"], victim]))
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1 and f"audit entry {victim} was changed" in result.stderr


def test_deleting_an_entry_fails_verification_and_names_it(trail, settings):
    victim = trail[1]
    _tamper(settings.db_path, ("DELETE FROM audit_events WHERE seq = ?", [victim]))
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"audit entry {victim} was deleted" in result.stderr


def test_deleting_the_last_entry_fails_verification_and_names_it(trail, settings):
    victim = trail[-1]
    _tamper(settings.db_path, ("DELETE FROM audit_events WHERE seq = ?", [victim]))
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1
    assert f"audit entry {victim} was deleted" in result.stderr


def test_a_forged_entry_without_the_key_fails_verification(trail, settings):
    conn = sqlite3.connect(settings.db_path)
    last = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute(
        "INSERT INTO audit_events (seq, at, action, detail, prev_hash, hash) VALUES (?, '2026-01-01T00:00:00Z',"
        " 'sign-in', '{}', ?, ?)", [last[0] + 1, last[1], "0" * 64])
    conn.commit()
    conn.close()
    result = cli("audit", "verify", data_dir=settings.data_dir)
    assert result.returncode == 1 and f"audit entry {last[0] + 1} was changed" in result.stderr


def test_the_database_refuses_to_update_or_delete_audit_entries(trail, settings):
    conn = sqlite3.connect(settings.db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_events SET action = 'x' WHERE seq = ?", [trail[0]])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_events WHERE seq = ?", [trail[0]])
    conn.close()


def test_concurrent_writers_keep_one_unbroken_chain(store, world):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                with store.write() as db:
                    audit.record(db, "family-read", agency_id=world.agencies["A"], family_id=world.families["own"],
                                 detail={"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with store.read() as db:
        result = audit.verify(db, store.keyring)
        count = db.execute("SELECT count(*) FROM audit_events WHERE action = 'family-read'").fetchone()[0]
    assert result.ok, result.problems
    assert count == 100


def test_a_refused_sign_in_is_audited_even_though_the_sign_in_rolled_back(client, store, world):
    r = client.post("/api/v1/auth/login", json={"username": "prac_a1", "password": "wrong password here"})
    assert r.status_code == 401
    with store.read() as db:
        rows = list(db.query("SELECT * FROM audit_events WHERE action = 'sign-in-failed'"))
    assert [r["user_id"] for r in rows] == [world.users["prac_a1"]]


def test_an_admin_lists_who_accessed_a_family(client, store, world):
    prac = login(client, "prac_a1")
    admin = login(client, "admin_a")
    client.get("/api/v1/families/" + world.families["own"], headers=auth(prac))
    r = client.get(f"/api/v1/admin/families/{world.families['own']}/access-history", headers=auth(admin))
    assert r.status_code == 200, r.text
    events = r.json()
    reads = [e for e in events if e["action"] == "family-read"]
    assert reads and reads[0]["user_id"] == world.users["prac_a1"]
    assert reads[0]["device_id"] == prac["device"]["id"] and reads[0]["purpose"]
    # Reading the history is itself recorded.
    again = client.get(f"/api/v1/admin/families/{world.families['own']}/access-history", headers=auth(admin)).json()
    assert again[0]["action"] == "access-history-read" and again[0]["user_id"] == world.users["admin_a"]


def test_access_history_is_for_admins_of_the_familys_agency_only(client, world):
    sup = login(client, "sup_a1")
    other_admin = login(client, "admin_b")
    url = f"/api/v1/admin/families/{world.families['own']}/access-history"
    assert client.get(url, headers=auth(sup)).status_code == 403
    r = client.get(url, headers=auth(other_admin))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
