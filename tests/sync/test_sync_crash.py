"""Crash test: a real server process is killed (SIGKILL) at random moments while several
phones push over HTTP from their own threads. Phones retry whatever was not answered.
Afterwards every op has been applied exactly once and the database is intact."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx

from server.app import open_store
from server.settings import Settings
from server.storage import records
from tests.conftest import LiveServer
from tests.sync.device import DeviceModel

DEVICES = 4
OPS_PER_DEVICE = 400
FIELDS = ["language", "ethnicity", "given_name", "family_name"]  # one field per phone: no conflicts by design


def _family_and_person(server: LiveServer, headers: dict[str, str]) -> tuple[str, str]:
    families = httpx.get(server.url + "/api/v1/families", headers=headers, timeout=30).json()
    family_id = families[0]["id"]
    detail = httpx.get(server.url + f"/api/v1/families/{family_id}", headers=headers, timeout=30).json()
    return family_id, detail["persons"][0]["id"]


def test_killing_the_server_mid_push_loses_nothing_and_applies_nothing_twice(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    rng = random.Random(20261123)
    sessions = [server.login("practitioner1") for _ in range(DEVICES)]
    headers = [{"Authorization": f"Bearer {s['access_token']}"} for s in sessions]
    family_id, person_id = _family_and_person(server, headers[0])
    devices = [DeviceModel(s["device"]["id"]) for s in sessions]
    for d, h in zip(devices, headers):
        while True:  # each phone starts from what the server holds, as after sign-in
            page = httpx.get(server.url + "/api/v1/sync/pull", params={"cursor": d.cursor, "limit": 1000},
                             headers=h, timeout=30).json()
            d.take_pull_response(page)
            if not page["has_more"]:
                break
    observations: list[str] = []
    done = threading.Event()
    errors: list[str] = []
    retries = [0]

    def phone(i: int) -> None:
        d, h, r = devices[i], headers[i], random.Random(i)
        made = 0
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while made < OPS_PER_DEVICE or d.outbox:
                while made < OPS_PER_DEVICE and len(d.outbox) < 25:
                    made += 1
                    if r.random() < 0.6:
                        op = d.create("observation", family_id, {"kind": "fact", "text": f"obs {i}-{made}"})
                        observations.append(op["entity_id"])
                    else:
                        d.set("person", person_id, family_id, FIELDS[i], f"v{i}-{made}")
                batch = d.outbox[: r.randint(1, 20)]
                try:
                    resp = http.post("/api/v1/sync/push", json={"ops": batch}, headers=h)
                except httpx.HTTPError:
                    retries[0] += 1
                    time.sleep(0.05)
                    continue  # the server is down or died mid-request: send the same ops again
                if resp.status_code != 200:
                    errors.append(f"{resp.status_code} {resp.text[:200]}")
                    return
                d.take_push_response(resp.json(), batch)

    threads = [threading.Thread(target=phone, args=(i,), daemon=True) for i in range(DEVICES)]
    for t in threads:
        t.start()
    kills = 0
    while any(t.is_alive() for t in threads):
        time.sleep(rng.uniform(0.05, 0.4))
        if any(t.is_alive() for t in threads) and kills < 6:
            server.stop(kill=True)
            kills += 1
            time.sleep(rng.uniform(0.0, 0.3))
            server.start()
    for t in threads:
        t.join(120)
    done.set()
    server.stop()
    assert not errors, errors
    assert kills >= 1 and retries[0] >= 1, "the server must have died under the phones"

    store = open_store(Settings.from_env({}, data_dir=tmp_path / "data"))
    with store.read() as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for i, d in enumerate(devices):
            assert d.seq == OPS_PER_DEVICE
            row = next(db.query("SELECT last_client_seq FROM sync_devices WHERE device_id = ?", [d.device_id]))
            assert row["last_client_seq"] == OPS_PER_DEVICE
            answered = list(db.query("SELECT op_id, status FROM sync_ops WHERE device_id = ?", [d.device_id]))
            assert sorted(r["op_id"] for r in answered) == sorted(op["op_id"] for op in d.sent)
            assert {r["status"] for r in answered} == {"applied"}
            for op in d.sent:
                assert d.results[op["op_id"]]["status"] in ("applied", "duplicate")
        for oid in observations:
            entries = db.execute("SELECT count(*) FROM change_log WHERE entity_id = ?", [oid]).fetchone()[0]
            assert entries == 1, "each observation inserted exactly once"
        # Each set wrote a distinct value: each appears exactly once in the person's history.
        written: dict[str, int] = {}
        for entry in db.query("SELECT * FROM change_log WHERE entity_id = ? AND op = 'update'", [person_id]):
            for field, value in records.decode_changes(store.keyring, entry).items():
                if field in FIELDS:
                    written[value] = written.get(value, 0) + 1
        sets = [op["value"] for d in devices for op in d.sent if op["type"] == "set"]
        assert sorted(written) == sorted(sets) and set(written.values()) == {1}
        person = records.get(db, store.keyring, "person", person_id)
        for i, d in enumerate(devices):
            mine = [op["value"] for op in d.sent if op["type"] == "set"]
            if mine:
                assert person[FIELDS[i]] == mine[-1], "each phone's last write stands"
    store.close()
