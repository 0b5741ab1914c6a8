"""The installable shell: manifest, icons, service worker and its precache."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from platform_helpers import open_app, wait_state, wait_sw_controls
from shell_manifest import TARGET, render

PWA = Path(__file__).resolve().parents[2] / "pwa"


def test_precache_list_is_current_with_the_files_under_pwa():
    assert TARGET.read_text() == render(), "run: .venv/bin/python tests/pwa/shell_manifest.py"


def test_manifest_icons_are_real_pngs_of_the_declared_sizes():
    manifest = json.loads((PWA / "manifest.webmanifest").read_text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    purposes = set()
    for icon in manifest["icons"]:
        data = (PWA / icon["src"].lstrip("/")).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert f"{width}x{height}" == icon["sizes"]
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= purposes


def test_index_has_no_inline_script_or_style():
    html = (PWA / "index.html").read_text()
    import re

    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"<[^>]*\son[a-z]+=", html), "inline event handler"
    assert "Content-Security-Policy" in html and "script-src 'self'" in html
    assert html.count("<script") == 1 and 'src="/js/app.js"' in html and 'type="module"' in html


@pytest.mark.browser
def test_app_is_installable_and_the_service_worker_controls_the_page(browser_context, pwa_server):
    page = open_app(browser_context, pwa_server)
    wait_state(page, "signed-out")
    wait_sw_controls(page)
    cdp = browser_context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")
    assert errors == {"installabilityErrors": []}
    names = page.evaluate("caches.keys()")
    assert len(names) == 1 and names[0].startswith("hearthside-shell-")
    urls = page.evaluate("(async () => { const c = await caches.open((await caches.keys())[0]);"
                         " return (await c.keys()).map(r => new URL(r.url).pathname); })()")
    assert "/index.html" in urls and "/js/app.js" in urls
    assert not [u for u in urls if u.startswith("/api/")]


@pytest.mark.browser
def test_no_console_errors_or_csp_violations_when_the_app_opens(browser_context, pwa_server):
    problems = []
    page = browser_context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(pwa_server.url + "/")
    wait_state(page, "signed-out")
    wait_sw_controls(page)
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not [p for p in problems if "screens.css" not in p], problems


@pytest.mark.browser
def test_shell_screens_fit_320_px_without_horizontal_scroll(browser_context, pwa_server):
    from platform_helpers import enrol, wait_until

    page = open_app(browser_context, pwa_server)
    page.set_viewport_size({"width": 320, "height": 640})
    wait_state(page, "signed-out")
    fits = "() => document.documentElement.scrollWidth <= 320"
    assert page.evaluate(fits)
    enrol(page)
    for sel in ["header", "#nav", "[data-testid=lock]", "[data-testid=sync-badge]"]:
        box = page.locator(sel).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, sel
    for sel in ["[data-testid=lock]", "#nav a"]:
        box = page.locator(sel).first.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, sel  # touch targets
    page.get_by_test_id("lock").click()
    wait_state(page, "locked")
    assert page.evaluate(fits)
    wait_until(page, "() => document.activeElement && document.activeElement.dataset.testid === 'pin'")


@pytest.mark.browser
def test_ids_and_clock_follow_the_sync_contract(browser_context, pwa_server):
    import re

    from server.ids import stable_id

    page = open_app(browser_context, pwa_server)
    wait_state(page, "signed-out")
    parts = ["v-1", "safe-sleep", "p-2", "item-3"]
    got = page.evaluate(
        """async (parts) => { const m = await import('/js/model.js'); const s = await import('/js/sync.js');
          const meta = { hlc: { wall: 0, counter: 0 } };
          const a = s.hlcTick(meta); const b = s.hlcTick(meta);
          s.hlcReceive('999999999999999-00007-server', meta); const c = s.hlcTick(meta);
          return { stable: await m.stableId(...parts), v7: m.uuidv7(), a, b, c }; }""",
        parts,
    )
    assert got["stable"] == stable_id(*parts)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", got["v7"])
    hlc = r"\d{15}-\d{5}-.+"
    assert all(re.fullmatch(hlc, got[k]) for k in "abc")
    assert got["a"] < got["b"] < got["c"] and got["c"].startswith("999999999999999-00009-")
