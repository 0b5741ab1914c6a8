"""What one guess at the phone's unlock secret costs, in headless Chromium.

Prints the time of one PBKDF2-SHA256 derivation through the PWA's own
``deriveWrappingKey`` (pwa/js/crypto.js) at the iteration count the phone now writes and at
the reference 600,000 it wrote before, and their ratio. An attacker with a copy of the
phone's storage pays this per guess on one core; docs/security.md ("Unlocking the phone")
turns it into the cost of each kind of secret.

Run from the repository root:
    .venv/bin/python bench/unlock_kdf.py [--runs 7]
Needs only Chromium (``/usr/bin/chromium`` or ``HEARTHSIDE_TEST_CHROMIUM``); the PWA's
files are served from a throwaway local HTTP server (WebCrypto needs a secure context,
which 127.0.0.1 is).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import launch_phone  # noqa: E402

REFERENCE = 600_000

# The two counts are timed in turn, not one after the other, so that a change in the
# machine's load (it is shared) falls on both alike and the ratio stays honest.
TIME_JS = """
async ([counts, runs]) => {
  const c = await import('/js/crypto.js');
  const salt = c.randomBytes(16);
  const times = Object.fromEntries(counts.map((n) => [n, []]));
  await c.deriveWrappingKey('warm-up', salt, counts[0]);
  for (let i = 0; i < runs; i++) {
    for (const n of counts) {
      const t0 = performance.now();
      await c.deriveWrappingKey('guess-' + i, salt, n);
      times[n].push(performance.now() - t0);
    }
  }
  return times;
}
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(REPO / "pwa")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = launch_phone(pw, Path(profile))
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/manifest.webmanifest")
            current = page.evaluate("async () => (await import('/js/crypto.js')).PBKDF2_ITERATIONS")
            counts = list(dict.fromkeys([current, REFERENCE]))
            times = page.evaluate(TIME_JS, [counts, args.runs])
            got = {n: statistics.median(times[str(n)]) for n in counts}
            ctx.close()
    finally:
        httpd.shutdown()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"PBKDF2-SHA256 in headless Chromium, median of {args.runs} (load average {load}):")
    for n, ms in got.items():
        mark = "  <- written by the phone now" if n == current else "  (reference)"
        print(f"  {n:>9,} iterations: {ms:7.0f} ms a guess on one core{mark}")
    print(f"  ratio {current:,} / {REFERENCE:,}: {got[current] / got[REFERENCE]:.2f}x the cost a guess")
    per_core_hours = got[current] / 1000 * 10**6 / 3600
    print(f"  all 10^6 six-digit PINs at {current:,}: {per_core_hours:.0f} core-hours (one CPU core; a GPU is far faster)")


if __name__ == "__main__":
    main()
