"""PWA load budget and phone-like timings, in headless Chromium.

Prints:
  * the whole first load gzipped (HTML, CSS, JS, manifest, icons: every file the service
    worker precaches on the first visit, which is everything the app ever downloads) and
    the part the page itself requests to reach the sign-in screen — against 150 KB;
  * offline cold start to the PIN screen (a new browser process, offline, CPU 4× slower);
  * unlock to a caseload of N families listed (default 60), CPU 4× slower, with the part
    spent in PBKDF2 (the count in pwa/js/crypto.js) shown separately.

Run from the repository root:
    .venv/bin/python bench/pwa_load.py [--families 60] [--runs 3]
The families are made on the server (synthetic, through the API as a supervisor) and
reach the phone through its normal first sync.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "pwa"))

from platform_helpers import PIN, enrol, wait_state, wait_synced, wait_until  # noqa: E402
from shell_manifest import PWA, shell_files  # noqa: E402
from tests.conftest import LiveServer, launch_phone  # noqa: E402

BUDGET = 150 * 1024
THROTTLE = 4


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def make_caseload(server: LiveServer, total: int) -> int:
    sup = server.login("supervisor1")
    prac = server.login("practitioner1")
    auth = {"Authorization": f"Bearer {sup['access_token']}"}
    mine = httpx.get(f"{server.url}/api/v1/families/", headers={"Authorization": f"Bearer {prac['access_token']}"}).json()
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as c:
        for i in range(max(0, total - len(mine))):
            fam = c.post("/api/v1/families/", json={"family_name": f"Benchfamily{i:03d}", "address": f"{i} Test Lane",
                                                    "postcode": "EV9 9ZZ"}).json()
            for role, given in (("mother", "Alex"), ("father", "Sam"), ("child", "Robin"), ("child", "Kit")):
                c.post(f"/api/v1/families/{fam['id']}/persons",
                       json={"role": role, "given_name": given, "family_name": f"Benchfamily{i:03d}",
                             "date_of_birth": "2024-03-01" if role == "child" else "1994-05-05"}).raise_for_status()
            c.post(f"/api/v1/families/{fam['id']}/allocations", json={"practitioner_id": prac["user"]["id"]}).raise_for_status()
    return len(httpx.get(f"{server.url}/api/v1/families/", headers={"Authorization": f"Bearer {prac['access_token']}"}).json())


def marks(page) -> dict[str, float]:
    return page.evaluate("() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="hs-bench-"))
    server = LiveServer(tmp / "data").start()
    try:
        n = make_caseload(server, args.families)
        with sync_playwright() as pw:
            profile = tmp / "profile"
            ctx = launch_phone(pw, profile)
            requested: list[str] = []
            page = ctx.new_page()
            page.on("request", lambda r: requested.append(r.url))  # the page's own, not the worker's
            page.set_default_timeout(120_000)
            page.goto(server.url + "/?test")
            wait_state(page, "signed-out")
            first_screen = sorted({u.split(server.url, 1)[1].split("?")[0] for u in requested
                                   if u.startswith(server.url) and "/api/" not in u})
            enrol(page)
            wait_synced(page)
            page.evaluate("location.hash = '#/caseload'")
            wait_until(page, "n => document.querySelectorAll('#app a[href^=\"#/family/\"]').length >= n", n)
            ctx.close()

            files = shell_files() + ["sw.js"]
            total_raw = sum((PWA / f).stat().st_size for f in files)
            total_gz = sum(gz((PWA / f).read_bytes()) for f in files)
            page_files = [f.lstrip("/") or "index.html" for f in first_screen]
            page_files = [f for f in page_files if (PWA / f).is_file()]
            page_gz = sum(gz((PWA / f).read_bytes()) for f in page_files)

            cold, unlock_total, unlock_kdf, doc_served, dcl = [], [], [], [], []
            for _ in range(args.runs):
                ctx = launch_phone(pw, profile, offline=True)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.set_default_timeout(120_000)
                cdp = ctx.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                page.goto(server.url + "/?test#/caseload")
                wait_state(page, "locked")
                m = marks(page)
                cold.append(m["hs:state:locked"])
                nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                    " return [n.responseEnd, n.domContentLoadedEventEnd]; }")
                doc_served.append(nav[0])
                dcl.append(nav[1])
                page.evaluate(
                    """n => { window.__listed = null; const app = document.getElementById('app');
                      const obs = new MutationObserver(() => {
                        if (app.querySelectorAll('a[href^="#/family/"]').length >= n) { window.__listed = performance.now(); obs.disconnect(); } });
                      obs.observe(app, { childList: true, subtree: true }); }""", n)
                page.get_by_test_id("pin").fill(PIN)
                page.get_by_test_id("unlock").click()
                wait_until(page, "() => window.__listed !== null", timeout_ms=120_000)
                m = marks(page)
                listed = page.evaluate("window.__listed")
                unlock_total.append(listed - m["hs:unlock-submit"])
                unlock_kdf.append(m["hs:state:unlocked"] - m["hs:unlock-submit"])
                ctx.close()
                time.sleep(0.2)
    finally:
        server.stop()

    print("Hearthside PWA load (headless Chromium)")
    print(f"  whole first load, gzipped (all {len(files)} precached files): {total_gz / 1024:.1f} KB"
          f" ({total_raw / 1024:.1f} KB raw) — budget 150 KB: {'within' if total_gz <= BUDGET else 'OVER'}")
    print(f"  requested by the page up to the sign-in screen ({len(page_files)} files): {page_gz / 1024:.1f} KB gzipped")
    print(f"  offline cold start to the PIN screen, CPU {THROTTLE}x: median {statistics.median(cold):.0f} ms"
          f" (runs: {', '.join(f'{x:.0f}' for x in cold)});"
          f" page served by the service worker at {statistics.median(doc_served):.0f} ms,"
          f" modules parsed (DOMContentLoaded) at {statistics.median(dcl):.0f} ms")
    print(f"  unlock to caseload of {n} families listed, CPU {THROTTLE}x: median {statistics.median(unlock_total):.0f} ms"
          f" (runs: {', '.join(f'{x:.0f}' for x in unlock_total)}),"
          f" of which PIN check (PBKDF2) {statistics.median(unlock_kdf):.0f} ms")


if __name__ == "__main__":
    main()
