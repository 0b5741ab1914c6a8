"""How fast the agency feed pages out signed visits, in JSON and FHIR R4.

Seeds N synthetic families, each with a signed visit (eight checklist answers, an
observation, a flag and a follow-up) into a fresh data directory, then pages the whole
feed at 100 items a page as a core system would, and prints items per second and bytes per
item for each format, and the time to list unacknowledged items for an admin.

    .venv/bin/python bench/agency_feed.py [N]      (default 300)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.agency.acks import unacknowledged  # noqa: E402
from server.agency.feed import read_feed  # noqa: E402
from server.agency.fhir import feed_bundle  # noqa: E402
from server.app import open_store  # noqa: E402
from server.clock import now_iso  # noqa: E402
from server.ids import new_id, stable_id  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage import records  # noqa: E402


def seed(store, n: int) -> str:
    agency = new_id()
    with store.write() as db:
        db["agencies"].insert({"id": agency, "name": "Bench", "timezone": "Europe/London", "settings": "{}",
                               "created_at": now_iso()})
        user = new_id()
        db["users"].insert({"id": user, "agency_id": agency, "team_id": None, "username": "bench", "display_name": "B",
                            "role": "practitioner", "password_hash": "x", "demo": 0, "disabled_at": None,
                            "created_at": now_iso()})
        k = store.keyring
        for i in range(n):
            fid, child, mum, visit = new_id(), new_id(), new_id(), new_id()
            records.insert(db, k, "family", {"id": fid, "agency_id": agency, "family_name": f"Family{i}",
                                             "address": f"{i} Bench Road", "postcode": "BE1 1NC", "status": "active"})
            records.insert(db, k, "person", {"id": child, "agency_id": agency, "family_id": fid, "role": "child",
                                             "given_name": f"Child{i}", "date_of_birth": "2026-01-01"})
            records.insert(db, k, "person", {"id": mum, "agency_id": agency, "family_id": fid, "role": "mother",
                                             "given_name": f"Mum{i}"})
            records.insert(db, k, "relationship", {"id": new_id(), "agency_id": agency, "family_id": fid,
                                                   "adult_id": mum, "child_id": child, "relationship": "mother"})
            records.insert(db, k, "visit", {"id": visit, "agency_id": agency, "family_id": fid,
                                            "practitioner_id": user, "type": "targeted", "status": "in-progress",
                                            "started_at": "2026-11-01T10:00:00.000Z", "present": [child, mum]})
            for item, value in [("sleep-place-night", "own-cot-or-moses-basket"), ("sleep-position", "back"),
                                ("sleep-surface-clear", "yes"), ("items-in-sleep-space", ["nothing"]),
                                ("sleep-place-day", "pram-or-carrycot")]:
                records.insert(db, k, "checklist_response", {
                    "id": stable_id(visit, "safe-sleep", child, item), "agency_id": agency, "family_id": fid,
                    "visit_id": visit, "checklist_id": "safe-sleep", "checklist_version": 1, "subject_id": child,
                    "item_id": item, "answer": value, "seen_or_told": "seen"})
            for item, value in [("child-seen", "yes"), ("seen-alone", "no"), ("spoken-to-alone", "no")]:
                records.insert(db, k, "checklist_response", {
                    "id": stable_id(visit, "child-seen-alone", child, item), "agency_id": agency, "family_id": fid,
                    "visit_id": visit, "checklist_id": "child-seen-alone", "checklist_version": 1,
                    "subject_id": child, "item_id": item, "answer": value})
            records.insert(db, k, "observation", {"id": new_id(), "agency_id": agency, "family_id": fid,
                                                  "visit_id": visit, "about_person_id": child, "kind": "fact",
                                                  "text": "Baby settled and feeding well.", "recorded_by": user,
                                                  "recorded_at": "2026-11-01T10:30:00.000Z"})
            records.insert(db, k, "flag", {"id": new_id(), "agency_id": agency, "family_id": fid, "visit_id": visit,
                                           "rule_id": "r", "subject_id": child, "severity": "routine",
                                           "reason": "Bench flag", "status": "open", "raised_by": user})
            records.insert(db, k, "follow_up", {"id": new_id(), "agency_id": agency, "family_id": fid,
                                                "visit_id": visit, "assignee_id": user, "due_at": "2026-11-08",
                                                "text": "Bench follow-up", "status": "open"})
            records.update(db, k, "visit", visit, {"status": "completed", "completed_at": "2026-11-01T11:00:00.000Z",
                                                   "signed_by": user})
    return agency


def page_all(store, agency: str, fmt: str, content) -> tuple[int, int, float]:
    cursor, items, size = 0, 0, 0
    t0 = time.perf_counter()
    while True:
        with store.read() as db:
            page = read_feed(db, store.keyring, agency, cursor, 100)
        if fmt == "fhir":
            body = feed_bundle(page.items, content, "urn:bench", base_url="http://x/fhir", next_cursor=page.next_cursor,
                               has_more=page.has_more, self_url="http://x", next_url=None)
        else:
            body = {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more}
        size += len(json.dumps(body, separators=(",", ":")))
        items += len(page.items)
        cursor = page.next_cursor
        if not page.has_more:
            return items, size, time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = Path(tempfile.mkdtemp())
    settings = Settings.from_env({}, data_dir=tmp / "data")
    store = open_store(settings)
    try:
        from server.content.loader import load_content

        content = load_content(settings.content_dir)
    except ImportError:
        content = None
    t0 = time.perf_counter()
    agency = seed(store, n)
    print(f"seeded {n} families with a signed visit each in {time.perf_counter() - t0:.1f} s")
    for fmt in ("json", "fhir"):
        items, size, secs = page_all(store, agency, fmt, content)
        print(f"feed {fmt:4}: {items} items in {secs:.2f} s = {items / secs:,.0f} items/s, "
              f"{size / items:,.0f} bytes/item, {size / 1e6:.1f} MB total")
    t0 = time.perf_counter()
    with store.read() as db:
        unacknowledged(db, store.keyring, agency)
    print(f"unacknowledged listing over {n} visits: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
