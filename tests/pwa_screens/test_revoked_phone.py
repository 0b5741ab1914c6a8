"""A revoked phone that was offline until its access token lapsed: the app's refresh gets
an upload-only pair, it hands over what it wrote (held for the supervisor) and then wipes
itself. Real Chromium, real server."""

from __future__ import annotations

import sqlite3

import httpx

from .conftest import enrol, server_rows, wait_until


def test_a_revoked_phone_with_a_lapsed_token_uploads_its_work_then_wipes(screens_server, browser_context):
    page = browser_context.new_page()
    enrol(page, screens_server)
    device_id = page.evaluate("() => window.__hearthside.session.user().device_id")
    browser_context.set_offline(True)
    page.evaluate("""async () => { const fam = (await window.__hearthside.model.list('family'))[0];
        await window.__hearthside.model.create('observation', { kind: 'fact', text: 'Written offline' },
                                               { family_id: fam.id }); }""")

    admin = screens_server.login("admin1")
    r = httpx.post(f"{screens_server.url}/api/v1/devices/{device_id}/revoke",
                   headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert r.status_code == 200
    conn = sqlite3.connect(screens_server.data_dir / "hearthside.db")
    with conn:
        conn.execute("UPDATE tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE kind = 'access'"
                     " AND device_id = ?", [device_id])
    conn.close()

    browser_context.set_offline(False)
    page.evaluate("() => { window.__hearthside.sync.now(); }")
    wait_until(page, "() => document.documentElement.dataset.session === 'signed-out'", timeout_ms=60_000)

    held = server_rows(screens_server, "SELECT kind, status FROM sync_held WHERE device_id = ?", [device_id])
    assert held == [("device-revoked", "held")]
    actions = [a for (a,) in server_rows(screens_server, "SELECT action FROM audit_events WHERE device_id = ?",
                                         [device_id])]
    assert "device-wipe-instructed" in actions
    page.get_by_test_id("username").wait_for()  # nothing left on the phone but the sign-in
