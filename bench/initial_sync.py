"""Initial sync of a realistic caseload: Hearthside vs PouchDB, side by side in one run.

A practitioner's caseload (the demo data plus 60 generated families, about 10,000
records: families, persons, relationships, allocations, visits, checklist responses,
observations, addenda, follow-ups, flags; synthetic text only) is seeded into a real
Hearthside data directory through ``server.storage.records.insert`` and, as the same
records, into ``pouchdb-server --in-memory``. Then, in one headless Chromium profile:

- Hearthside: the PWA's own modules (session, sync, vault) sign in as ``practitioner1``,
  choose a PIN, and ``sync.now()`` pulls every change into the encrypted IndexedDB vault.
  Timed from the call to its resolution (everything committed, encrypted, to IndexedDB).
- PouchDB 9 (``pouchdb.min.js``): ``PouchDB.replicate.from(server)`` into a fresh local
  database, timed from the call to ``complete``.

Bytes on the wire are CDP ``Network.loadingFinished`` ``encodedDataLength`` (response
bytes including headers), summed over the timed window of each side.

    .venv/bin/python bench/initial_sync.py [--runs 3] [--families 60] [--cpu-throttle 1]

Needs the sync pull endpoint (server) and the PWA sync client; it fails clearly if the
server has no ``/api/v1/sync/pull``. Installs the npm peers into bench/node_modules on
first use (``npm install --prefix bench``). Figures vary with the shared machine's load:
the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The repository's own packages, after anything PYTHONPATH names (so a scratch merge can be
# benchmarked from this script).
sys.path.append(str(ROOT))

from sync import model  # noqa: E402
from tests.conftest import CHROMIUM, launch_phone  # noqa: E402

PASSWORD = "demo-password"
PIN = "246813"
POUCH_JS = BENCH / "node_modules" / "pouchdb" / "dist" / "pouchdb.min.js"
POUCH_SERVER = BENCH / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
POUCH_DB = "caseload"


# -- the caseload -------------------------------------------------------------------------

WORDS = (
    "the a and to of with was said mum dad baby child home visit seen room kitchen sleep cot feeding "
    "bottle weight health plan school nursery appointment support worried happy tired calm playing "
    "toys clean warm cold garden stairs smoke alarm safe advice discussed agreed next week today "
    "yesterday morning evening partner grandmother sister brother neighbour GP midwife nurse "
    "routine bath nappy crying settled smiling talking walking crawling reading breakfast lunch tea "
    "money rent housing benefits work shift car bus clinic weighed measured growth chart centile "
    "concern strength positive good well managing struggling low mood anxious sleeping eating"
).split()
# Facts are the commonest entry; every kind the model offers appears.
KINDS = ("fact", "fact", *model.ENTITIES["observation"].field("kind").values)  # type: ignore[union-attr]
VISIT_TYPES = ("targeted", "targeted", "targeted", "new-birth", "6-8-week", "child-protection", "antenatal")
GIVEN = ("Amy Ben Cara Dan Eve Finn Gail Hugo Iris Jack Kim Leo Mia Ned Ola Pip Rae Sid Tia Uma Vic Wes "
         "Xan Yas Zoe").split()
SURNAMES = ("Abbot Bexley Carden Dunmore Elstow Farley Gorton Harwell Ilford Jesmond Kirkby Lydney "
            "Marden Nuthall Oakham Penrith Quorn Rydal Sedley Tarvin Ulley Vowley Wrexe Yarm").split()


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    """Synthetic prose of lo..hi characters (no real person, no real event)."""
    target = rng.randint(lo, hi)
    out: list[str] = []
    size = 0
    while size < target:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    text = " ".join(out)[:target].rstrip()
    return text[:1].upper() + text[1:] + "."


def checklist_items() -> list[tuple[str, str, list[str]]]:
    """(checklist id, version, item ids) from the shipped content, so responses look real."""
    import yaml

    out = []
    for path in sorted((ROOT / "content" / "checklists").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        items = [i["id"] for i in doc.get("items", []) if isinstance(i, dict) and "id" in i]
        if items:
            out.append((doc["id"], str(doc.get("version", 1)), items))
    return out


def seed_caseload(data_dir: Path, families: int, seed: int) -> dict[str, Any]:
    """Demo data plus ``families`` generated families allocated to practitioner1, in one
    transaction through the record layer. Returns counts and the practitioner's id."""
    from server.app import open_store
    from server.demo import seed_demo
    from server.ids import new_id, stable_id
    from server.settings import Settings
    from server.storage import records

    rng = random.Random(seed)
    store = open_store(Settings.from_env(data_dir=data_dir, demo=True))
    seed_demo(store)
    keyring = store.keyring
    # The demo seed's ids (server/demo.py derives them from these keys).
    agency_id, team_id = stable_id("demo", "agency"), stable_id("demo", "team")
    practitioner = stable_id("demo", "user", "practitioner1")
    supervisor = stable_id("demo", "user", "supervisor1")
    lists = checklist_items()
    today = date.today()
    with store.write() as db:
        for n in range(families):
            fid = new_id()
            base = {"agency_id": agency_id, "family_id": fid}
            surname = rng.choice(SURNAMES)
            records.insert(db, keyring, "family", {
                "id": fid, "agency_id": agency_id, "team_id": team_id, "family_name": surname,
                "address": f"{rng.randint(1, 199)} {rng.choice(SURNAMES)} Road, Elmbridge Vale",
                "postcode": f"EV{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRST')}",
                "phone": f"07700 9{rng.randint(0, 99999):05d}", "notes": sentence(rng, 40, 300), "status": "active"})
            adults: list[str] = []
            children: list[str] = []
            for role in ["mother"] + rng.sample(["father", "partner", "male-carer", "other-adult"], rng.randint(0, 2)):
                pid = new_id()
                records.insert(db, keyring, "person", {
                    "id": pid, **base, "role": role, "given_name": rng.choice(GIVEN), "family_name": surname,
                    "date_of_birth": (today - timedelta(days=rng.randint(6500, 16000))).isoformat(),
                    "sex": None if role == "mother" else "male", "nhs_number": f"999{rng.randint(0, 9999999):07d}",
                    "language": rng.choice(["English"] * 6 + ["Polish", "Urdu", "Romanian"]),
                    "lives_in_household": rng.random() > 0.15})
                adults.append(pid)
            for _ in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4])):
                pid = new_id()
                records.insert(db, keyring, "person", {
                    "id": pid, **base, "role": "child", "given_name": rng.choice(GIVEN), "family_name": surname,
                    "date_of_birth": (today - timedelta(days=rng.randint(10, 4000))).isoformat(),
                    "sex": rng.choice(["male", "female"]), "nhs_number": f"999{rng.randint(0, 9999999):07d}",
                    "protection_plan": rng.random() < 0.1})
                children.append(pid)
            for a in adults:
                for c in children:
                    records.insert(db, keyring, "relationship", {
                        "id": new_id(), **base, "adult_id": a, "child_id": c,
                        "relationship": rng.choice(["mother", "father", "mother's partner", "grandmother"]),
                        "parental_responsibility": rng.random() < 0.7})
            records.insert(db, keyring, "allocation", {"id": new_id(), **base, "practitioner_id": practitioner,
                                                      "active": True})
            people = adults + children
            n_visits = rng.randint(8, 20)
            for j in range(n_visits):
                vid = new_id()
                planned = j == n_visits - 1
                no_access = not planned and rng.random() < 0.1
                when = today + timedelta(days=rng.randint(1, 14)) if planned else today - timedelta(days=7 * (n_visits - j))
                present = [] if planned or no_access else rng.sample(people, rng.randint(1, len(people)))
                visit = {"id": vid, **base, "practitioner_id": practitioner, "type": rng.choice(VISIT_TYPES),
                         "status": "planned" if planned else "completed", "planned_for": f"{when.isoformat()}T10:00:00Z",
                         "no_access": no_access, "present": present}
                if not planned:
                    visit.update(started_at=f"{when.isoformat()}T10:05:00Z", completed_at=f"{when.isoformat()}T11:00:00Z",
                                 signed_by=practitioner, summary=sentence(rng, 150, 900))
                records.insert(db, keyring, "visit", visit)
                if planned or no_access:
                    continue
                for checklist_id, version, items in rng.sample(lists, 2):
                    subject = rng.choice(children)
                    for item in rng.sample(items, min(len(items), rng.randint(3, 6))):
                        answer = rng.choice([True, False, rng.choice(["yes", "no", "not-asked", "other"]),
                                             [rng.choice(["seen", "told"])]])
                        records.insert(db, keyring, "checklist_response", {
                            "id": stable_id(vid, checklist_id, subject, item), **base, "visit_id": vid,
                            "checklist_id": checklist_id, "checklist_version": version, "subject_id": subject,
                            "item_id": item, "answer": answer,
                            "note": sentence(rng, 20, 200) if rng.random() < 0.3 else None,
                            "seen_or_told": rng.choice(["seen", "told"])})
                for _ in range(rng.randint(1, 3)):
                    records.insert(db, keyring, "observation", {
                        "id": new_id(), **base, "visit_id": vid, "about_person_id": rng.choice(people),
                        "kind": rng.choice(KINDS), "text": sentence(rng, 80, 600), "recorded_by": practitioner,
                        "recorded_at": f"{when.isoformat()}T10:{rng.randint(10, 59):02d}:00Z"})
                if rng.random() < 0.05:
                    records.insert(db, keyring, "addendum", {
                        "id": new_id(), **base, "visit_id": vid, "text": sentence(rng, 60, 300),
                        "recorded_by": practitioner, "recorded_at": f"{when.isoformat()}T16:00:00Z"})
                if rng.random() < 0.4:
                    records.insert(db, keyring, "follow_up", {
                        "id": new_id(), **base, "visit_id": vid, "subject_id": rng.choice(people),
                        "assignee_id": practitioner, "due_at": f"{(when + timedelta(days=14)).isoformat()}T09:00:00Z",
                        "text": sentence(rng, 40, 160), "status": rng.choice(["open", "done", "done", "cancelled"])})
                if rng.random() < 0.1:
                    records.insert(db, keyring, "flag", {
                        "id": new_id(), **base, "visit_id": vid, "rule_id": "bench.generated",
                        "subject_id": rng.choice(children), "severity": rng.choice(["urgent", "high", "routine"]),
                        "reason": sentence(rng, 40, 120), "answers": {"item": rng.choice(WORDS), "count": rng.randint(1, 4)},
                        "status": rng.choice(["open", "acknowledged", "closed"]), "raised_by": supervisor})
    store.close()
    return {"practitioner_id": practitioner}


def caseload_docs(data_dir: Path, practitioner_id: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every live record of the practitioner's families, decrypted, as PouchDB documents:
    the same records the sync pull delivers to the phone."""
    from server.app import open_store
    from server.settings import Settings
    from server.storage import records

    store = open_store(Settings.from_env(data_dir=data_dir, demo=True))
    docs: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    with store.read() as db:
        fids = [r["family_id"] for r in db.query(
            "SELECT DISTINCT family_id FROM allocations WHERE practitioner_id = ? AND active = 1 AND deleted = 0",
            [practitioner_id])]
        marks = ",".join("?" * len(fids))
        for name, entity in records.ENTITIES.items():
            if name == "conflict":
                continue
            where = f"{'id' if name == 'family' else 'family_id'} IN ({marks})"
            rows = records.find(db, store.keyring, name, where, fids)
            counts[name] = len(rows)
            for row in rows:
                doc = {"_id": row["id"], "type": name, "family_id": row["family_id"]}
                doc.update({f: row[f] for f in entity.fields if row.get(f) is not None})
                docs.append(doc)
    store.close()
    return docs, counts


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start within 90 s; see {log}")


def start_hearthside(data_dir: Path, work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # No scheduler: it would raise flags for the generated overdue follow-ups mid-run, and
    # the PouchDB side would not have them.
    env = {**os.environ, "HEARTHSIDE_DATA_DIR": str(data_dir), "HEARTHSIDE_SCHEDULER_ENABLED": "false",
           "PYTHONPATH": os.pathsep.join(p for p in [os.environ.get("PYTHONPATH", ""), str(ROOT)] if p)}
    log = work / "hearthside.log"
    # `demo` serves in demo mode (the demo users' password works); its seed is already there.
    proc = subprocess.Popen([sys.executable, "-m", "server", "demo", "--port", str(port)], cwd=work, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health", proc, "hearthside server", log)
    return proc, url


def ensure_npm_packages() -> None:
    if POUCH_JS.exists() and POUCH_SERVER.exists():
        return
    print("installing npm peers into bench/node_modules ...", file=sys.stderr)
    subprocess.run(["npm", "install", "--prefix", str(BENCH), "--no-audit", "--no-fund"], check=True)


def start_pouchdb_server(work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    pdir = work / "pouchdb-server"
    pdir.mkdir()
    log = work / "pouchdb-server.log"
    # cwd: pouchdb-server writes its config.json and log.txt into its working directory.
    proc = subprocess.Popen(["node", str(POUCH_SERVER), "--in-memory", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=pdir, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", proc, "pouchdb-server", log)
    return proc, url


def load_pouchdb_server(url: str, docs: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=url, timeout=120) as c:
        c.put(f"/{POUCH_DB}").raise_for_status()
        for i in range(0, len(docs), 1000):
            r = c.post(f"/{POUCH_DB}/_bulk_docs", json={"docs": docs[i:i + 1000]})
            r.raise_for_status()
            bad = [x for x in r.json() if "error" in x]
            if bad:
                raise SystemExit(f"pouchdb-server refused {len(bad)} documents: {bad[0]}")
        info = c.get(f"/{POUCH_DB}").json()
        if info["doc_count"] != len(docs):
            raise SystemExit(f"pouchdb-server holds {info['doc_count']} documents, expected {len(docs)}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- in the browser -------------------------------------------------------------------------


class WireMeter:
    """Response bytes on the wire for one page, from CDP network events."""

    def __init__(self, context, page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.reset()
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.loadingFinished", self._finished)
        self.encodings: dict[str, str] = {}
        self.cdp.on("Network.responseReceived", self._response)

    def _response(self, e: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in e["response"].get("headers", {}).items()}
        self.encodings[httpx.URL(e["response"]["url"]).path] = headers.get("content-encoding", "identity")

    def reset(self) -> None:
        self.bytes = 0
        self.requests = 0
        self.by_path: dict[str, int] = {}

    def _finished(self, e: dict[str, Any]) -> None:
        n = int(e.get("encodedDataLength") or 0)
        self.bytes += n
        self.requests += 1
        path = httpx.URL(self.urls.get(e["requestId"], "")).path
        self.by_path[path] = self.by_path.get(path, 0) + n


HEARTHSIDE_ENROL = """async ([username, password, pin]) => {
  const session = await import('/js/session.js');
  await session.init();
  await session.signIn(username, password);
  await session.setPin(pin);
  const sync = await import('/js/sync.js');
  await sync.load();
  return session.current();
}"""

HEARTHSIDE_SYNC = """async () => {
  const sync = await import('/js/sync.js');
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(10000);
  const t0 = performance.now();
  const r = await sync.now();
  const t1 = performance.now();
  const m = sync.metaSnapshot();
  // Time spent waiting for pull responses (request sent to last byte received): the rest
  // of the total is the client decrypting, merging, encrypting and writing IndexedDB.
  const pulls = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/sync/pull'));
  const fetchMs = pulls.reduce((a, e) => a + (e.responseEnd - e.startTime), 0);
  return {ms: t1 - t0, ok: r.ok, error: r.error || null, cursor: m && m.cursor, source: m && m.source,
          pull_fetch_ms: fetchMs, pulls: pulls.length};
}"""

# Straight from IndexedDB (not through the vault): how many rows each store holds and
# whether any row carries a field in clear beyond the vault's {id, fid, ts, iv, ct}.
HEARTHSIDE_CHECK = """async (needle) => {
  const idb = await import('/js/idb.js');
  const stores = ['families', 'persons', 'relationships', 'allocations', 'visits', 'responses',
                  'observations', 'addenda', 'follow_ups', 'flags'];
  const counts = {}; let clear = 0; let found = 0;
  for (const s of stores) {
    const rows = await idb.getAll(s);
    counts[s] = rows.length;
    for (const r of rows) {
      if (!(r.ct && r.iv) || Object.keys(r).some((k) => !['id', 'fid', 'ts', 'iv', 'ct'].includes(k))) clear += 1;
      if (JSON.stringify(r).includes(needle)) found += 1;
    }
  }
  const vault = await import('/js/vault.js');
  const sample = (await vault.all('families')).length;
  return {counts, clear, found, decrypted_families: sample};
}"""

POUCH_SYNC = """async ([remote, batchSize]) => {
  const db = new PouchDB('bench-' + Date.now());
  const t0 = performance.now();
  const result = await db.replicate.from(remote, {batch_size: batchSize});
  const t1 = performance.now();
  const info = await db.info();
  return {ms: t1 - t0, ok: result.ok, docs_written: result.docs_written, doc_count: info.doc_count,
          adapter: db.adapter, version: PouchDB.version};
}"""


def self_times(profile: dict[str, Any]) -> list[tuple[str, float]]:
    """Main-thread self time (ms) by function from a CDP CPU profile, largest first.
    '(idle)' is the page waiting: on the network, IndexedDB or WebCrypto's own threads."""
    names = {}
    for node in profile["nodes"]:
        f = node["callFrame"]
        where = f["url"].rsplit("/", 1)[-1]
        names[node["id"]] = f"{f['functionName'] or '(anonymous)'} {where}:{f['lineNumber'] + 1}" if where \
            else f["functionName"] or "(anonymous)"
    totals: dict[str, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        totals[names[node_id]] = totals.get(names[node_id], 0.0) + delta / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])


def run_once(pw, work: Path, run: int, hs_url: str, pouch_url: str, expected: int, needle: str,
             batch_size: int, throttle: float, order: list[str], profile_js: bool = False) -> dict[str, Any]:
    profile = work / f"profile-{run}"
    # The comparison is of sync, not of the app shell: no service worker in the way of
    # either side's requests.
    context = launch_phone(pw, profile, viewport={"width": 1280, "height": 720}, service_workers="block")
    out: dict[str, Any] = {}
    try:
        for side in order:
            page = context.new_page()
            page.set_default_timeout(300_000)
            meter = WireMeter(context, page)
            if throttle > 1:
                meter.cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            if side == "hearthside":
                # Any same-origin page will do: the PWA's modules are imported into it, so the
                # app shell's own start-up (which would start syncing by itself) stays out.
                page.goto(hs_url + "/health")
                state = page.evaluate(HEARTHSIDE_ENROL, ["practitioner1", PASSWORD, PIN])
                if state != "unlocked":
                    raise SystemExit(f"PWA session is {state!r} after enrolment")
                meter.reset()
                if profile_js:
                    meter.cdp.send("Profiler.enable")
                    meter.cdp.send("Profiler.setSamplingInterval", {"interval": 500})
                    meter.cdp.send("Profiler.start")
                r = page.evaluate(HEARTHSIDE_SYNC)
                if profile_js:
                    out["hearthside_profile"] = self_times(meter.cdp.send("Profiler.stop")["profile"])
                wire, reqs, paths = meter.bytes, meter.requests, dict(meter.by_path)
                if not r["ok"] or r["source"] != "sync":
                    raise SystemExit(f"Hearthside sync did not finish through /api/v1/sync/pull: {r}")
                check = page.evaluate(HEARTHSIDE_CHECK, needle)
                stored = sum(check["counts"].values())
                if stored != expected or check["clear"] or check["found"]:
                    raise SystemExit(f"Hearthside vault after sync: {check} (expected {expected} records, all sealed)")
                sync_bytes = sum(v for k, v in paths.items() if k.startswith("/api/v1/sync/"))
                out["hearthside"] = {"ms": r["ms"], "bytes": wire, "sync_bytes": sync_bytes, "requests": reqs,
                                     "records": stored, "by_path": paths, "pull_fetch_ms": r["pull_fetch_ms"],
                                     "pulls": r["pulls"],
                                     "pull_encoding": meter.encodings.get("/api/v1/sync/pull", "?")}
            else:
                page.goto(pouch_url + "/")
                page.add_script_tag(path=str(POUCH_JS))
                meter.reset()
                r = page.evaluate(POUCH_SYNC, [f"{pouch_url}/{POUCH_DB}", batch_size])
                wire, reqs = meter.bytes, meter.requests
                if not r["ok"] or r["doc_count"] != expected:
                    raise SystemExit(f"PouchDB replication: {r} (expected {expected} documents)")
                out["pouchdb"] = {"ms": r["ms"], "bytes": wire, "requests": reqs, "records": r["doc_count"],
                                  "adapter": r["adapter"], "version": r["version"]}
            page.close()
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", type=int, default=60, help="generated families (on top of the demo data)")
    ap.add_argument("--runs", type=int, default=3, help="fresh browser profiles; medians are reported")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--pouch-batch-size", type=int, default=500,
                    help="PouchDB batch_size (its default is 100; 500 matches Hearthside's pull page)")
    ap.add_argument("--cpu-throttle", type=float, default=1, help="CDP CPU throttling rate (4 ~ a mid-range phone)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    ap.add_argument("--profile", action="store_true",
                    help="also print where the PWA's main thread spends the sync (CDP CPU profile, last run)")
    args = ap.parse_args()

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}")
    ensure_npm_packages()
    os.environ.setdefault("HEARTHSIDE_PASSWORD_HASH_LOG2_N", "12")  # sign-in cost is not what is measured
    work = Path(tempfile.mkdtemp(prefix="hs-initial-sync-"))
    data_dir = work / "data"
    hs = pouch = None
    try:
        t = time.monotonic()
        info = seed_caseload(data_dir, args.families, args.seed)
        docs, counts = caseload_docs(data_dir, info["practitioner_id"])
        expected = len(docs)
        needle = next(d["family_name"] for d in docs if d["type"] == "family" and len(d["family_name"]) > 5)
        print(f"seeded {expected} records for practitioner1 ({counts['family']} families) in "
              f"{time.monotonic() - t:.1f} s: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
        hs, hs_url = start_hearthside(data_dir, work)
        pouch, pouch_url = start_pouchdb_server(work)
        load_pouchdb_server(pouch_url, docs)

        from playwright.sync_api import sync_playwright

        runs = []
        with sync_playwright() as pw:
            for i in range(args.runs):
                # Alternate who goes first, so neither always gets the warmer machine.
                order = ["hearthside", "pouchdb"] if i % 2 == 0 else ["pouchdb", "hearthside"]
                r = run_once(pw, work, i, hs_url, pouch_url, expected, needle, args.pouch_batch_size,
                             args.cpu_throttle, order, profile_js=args.profile and i == args.runs - 1)
                runs.append(r)
                print(f"run {i + 1}: hearthside {r['hearthside']['ms'] / 1000:.2f} s "
                      f"{r['hearthside']['bytes']:,} B; pouchdb {r['pouchdb']['ms'] / 1000:.2f} s "
                      f"{r['pouchdb']['bytes']:,} B", file=sys.stderr)
    finally:
        stop(hs)
        stop(pouch)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)

    def med(side: str, key: str) -> float:
        return statistics.median(r[side][key] for r in runs)

    hs_s, pd_s = med("hearthside", "ms") / 1000, med("pouchdb", "ms") / 1000
    hs_b, pd_b = med("hearthside", "bytes"), med("pouchdb", "bytes")
    hs_req, pd_req = med("hearthside", "requests"), med("pouchdb", "requests")
    load = os.getloadavg()
    # Each run measures both sides minutes apart on the same machine: the per-run ratio
    # cancels most of the shared machine's load drift, so its median is the headline.
    speedup = statistics.median(r["pouchdb"]["ms"] / r["hearthside"]["ms"] for r in runs)
    byte_ratio = pd_b / hs_b
    print(f"\nInitial sync of {expected:,} records ({counts['family']} families), median of {len(runs)} run(s); "
          f"CPU throttle {args.cpu_throttle:g}x; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'':34}{'time (s)':>10}{'bytes on wire':>16}{'requests':>10}{'B/record':>10}")
    print(f"{'Hearthside (encrypted IndexedDB)':34}{hs_s:>10.2f}{hs_b:>16,.0f}{hs_req:>10.0f}{hs_b / expected:>10.0f}")
    print(f"{'PouchDB ' + runs[0]['pouchdb']['version'] + ' (batch ' + str(args.pouch_batch_size) + ')':34}"
          f"{pd_s:>10.2f}{pd_b:>16,.0f}{pd_req:>10.0f}{pd_b / expected:>10.0f}")
    print(f"{'PouchDB / Hearthside':34}{speedup:>9.2f}x{byte_ratio:>15.2f}x"
          f"   (time: median of per-run ratios; ratio of medians {pd_s / hs_s:.2f}x)")
    print(f"Hearthside: {med('hearthside', 'pull_fetch_ms') / 1000:.2f} s of its time waiting for "
          f"{runs[-1]['hearthside']['pulls']} pull responses; the rest is the phone's work (decrypt, merge, "
          f"encrypt, IndexedDB). Pull Content-Encoding: {runs[-1]['hearthside']['pull_encoding']}.")
    if "hearthside_profile" in runs[-1]:
        print("PWA main thread during the sync (self time, ms):")
        for name, ms in runs[-1]["hearthside_profile"][:15]:
            print(f"  {ms:9.1f}  {name}")
    target = speedup >= 3 and hs_b < pd_b
    print(f"target (Hearthside >= 3x faster and fewer bytes): {'met' if target else 'NOT met'}")
    print(json.dumps({
        "bench": "initial_sync", "records": expected, "families": counts["family"], "record_counts": counts,
        "runs": len(runs), "cpu_throttle": args.cpu_throttle, "pouch_batch_size": args.pouch_batch_size,
        "loadavg": [round(x, 2) for x in load],
        "hearthside": {"seconds": round(hs_s, 3), "bytes": int(hs_b), "requests": int(hs_req),
                       "sync_bytes": int(med("hearthside", "sync_bytes")),
                       "pull_content_encoding": runs[-1]["hearthside"]["pull_encoding"], "pull_pages": runs[-1]["hearthside"]["pulls"],
                       "waiting_for_pull_responses_seconds": round(med("hearthside", "pull_fetch_ms") / 1000, 3),
                       "bytes_by_path": runs[-1]["hearthside"]["by_path"]},
        "pouchdb": {"seconds": round(pd_s, 3), "bytes": int(pd_b), "requests": int(pd_req),
                    "version": runs[0]["pouchdb"]["version"], "adapter": runs[0]["pouchdb"]["adapter"]},
        "speedup": round(speedup, 2), "speedup_of_medians": round(pd_s / hs_s, 2), "byte_ratio": round(byte_ratio, 2), "target_met": target,
        "all_runs": [{**{s: {"seconds": round(r[s]["ms"] / 1000, 3), "bytes": r[s]["bytes"]}
                         for s in ("hearthside", "pouchdb")},
                      "speedup": round(r["pouchdb"]["ms"] / r["hearthside"]["ms"], 2)} for r in runs],
    }))


if __name__ == "__main__":
    main()
