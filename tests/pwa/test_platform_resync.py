"""The sync client when the server is restored from a backup (real backup and restore of
the live server's database file, the server process started again): the phone's cursor
belongs to the old change log, so it is told to resynchronise; it keeps what it has not
sent yet and ends holding exactly the server's records."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from server.backup import backup, restore
from server.demo import _sid
from platform_helpers import enrol, open_app, wait_sw_controls, wait_synced, wait_until

pytestmark = pytest.mark.browser

FAMILY = _sid("family", "ashworth")
ELSEWHERE = _sid("family", "hollis")  # practitioner2's: never on practitioner1's phone
LOST = "Sentinel-lost-in-the-restore-3391"
KEPT = "Sentinel-made-while-the-pull-was-on-its-way-7720"
ENTITY_STORE = "() => window.__hearthside.sync.ENTITY_STORE"
HELD_IDS = """async (stores) => {
  const { vault } = window.__hearthside; const out = [];
  for (const [entity, store] of Object.entries(stores)) {
    for (const r of await vault.all(store)) if (!r.deleted) out.push(entity + '/' + r.id);
  }
  return out.sort();
}"""
TEXTS = """async () => (await window.__hearthside.model.list('observation')).map((o) => o.text)"""


def sync_session(server, username: str) -> httpx.Client:
    token = server.login(username)["access_token"]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def server_ids(server) -> list[str]:
    """What the server holds for practitioner1, as a newly enrolled phone pulls it."""
    held: dict[str, bool] = {}
    with sync_session(server, "practitioner1") as http:
        cursor = 0
        while True:
            page = http.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 1000}).json()
            for c in page["changes"]:
                held[f"{c['entity']}/{c['entity_id']}"] = c["op"] != "delete"
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return sorted(k for k, live in held.items() if live)


def observations(family_id: str, texts: list[str], tag: str) -> list[dict]:
    wall = time.time_ns() // 1_000_000
    return [{"type": "create", "op_id": _sid("op", tag, str(i)), "client_seq": i + 1, "entity": "observation",
             "entity_id": _sid("observation", tag, str(i)), "family_id": family_id,
             "values": {"kind": "fact", "text": text}, "hlc": f"{wall:015d}-{i:05d}-test"}
            for i, text in enumerate(texts)]


def push(http: httpx.Client, ops: list[dict]) -> None:
    for start in range(0, len(ops), 500):
        r = http.post("/api/v1/sync/push", json={"ops": ops[start:start + 500]})
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"applied"}, r.text


def is_pull_with_epoch(url: str) -> bool:
    return "/api/v1/sync/pull" in url and "epoch=" in url


def test_after_a_restore_the_phone_resyncs_keeps_its_unsent_work_and_holds_exactly_the_servers_records(
    browser_context, pwa_server, tmp_path
):
    page = open_app(browser_context, pwa_server)
    enrol(page)
    wait_sw_controls(page)
    wait_synced(page)
    backup_file, _ = backup(pwa_server.data_dir / "hearthside.db", tmp_path / "backups")

    # After the backup: an observation the phone pulls, which the restore will lose.
    with sync_session(pwa_server, "supervisor1") as http:
        push(http, observations(FAMILY, [LOST], "lost"))
    page.evaluate("() => window.__hearthside.sync.now()")
    wait_until(page, "async (t) => (await window.__hearthside.model.list('observation')).some((o) => o.text === t)", LOST)
    old = page.evaluate("() => window.__hearthside.sync.metaSnapshot()")

    pwa_server.stop()
    restore(backup_file, pwa_server.data_dir, force=True)
    pwa_server.start()
    # The restored server writes on until its log passes the phone's cursor: only the
    # epoch can tell the phone that its position now names other changes.
    with sync_session(pwa_server, "practitioner2") as http:
        epoch = http.get("/api/v1/sync/pull", params={"cursor": 0, "limit": 1}).json()["epoch"]
        assert epoch != old["epoch"]
        push(http, observations(ELSEWHERE, [f"filler {i}" for i in range(old["cursor"])], "filler"))

    # The phone's next pull is held on its way while something new is recorded: the
    # resync must keep what is not yet sent.
    held: list = []
    page.route(is_pull_with_epoch, lambda route: route.continue_() if held else held.append(route))
    page.evaluate("() => { window.__resync = window.__hearthside.sync.now(); }")
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the phone did not pull"
    page.evaluate(
        "async ([family, text]) => { await window.__hearthside.model.create('observation',"
        " { kind: 'fact', text }, { family_id: family }); }", [FAMILY, KEPT])
    held[0].continue_()
    page.unroute(is_pull_with_epoch)
    page.evaluate("() => window.__resync")
    wait_synced(page)

    meta = page.evaluate("() => window.__hearthside.sync.metaSnapshot()")
    assert meta["epoch"] == epoch
    texts = page.evaluate(TEXTS)
    assert LOST not in texts and texts.count(KEPT) == 1
    assert page.evaluate("() => window.__hearthside.sync.outbox()") == []
    stores = page.evaluate(ENTITY_STORE)
    assert page.evaluate(HELD_IDS, stores) == server_ids(pwa_server)
    # Told once, as the audit trail records; the pull after it was an ordinary one.
    conn = sqlite3.connect(pwa_server.data_dir / "hearthside.db")
    try:
        told = conn.execute("SELECT count(*) FROM audit_events WHERE action = 'sync-resync-instructed'"
                            " AND device_id = ?", [meta_device(page)]).fetchone()[0]
    finally:
        conn.close()
    assert told == 1


def meta_device(page) -> str:
    return page.evaluate("() => window.__hearthside.session.user().device_id")
