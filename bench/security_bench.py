"""Figures for the security area: key rotation, audit verification and backup throughput
on a synthetic database. Prints figures; asserts nothing.

    .venv/bin/python bench/security_bench.py [--observations 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import audit, demo  # noqa: E402
from server.app import open_store  # noqa: E402
from server.backup import backup  # noqa: E402
from server.ids import new_id  # noqa: E402
from server.security.rotation import rotate  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage import records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--observations", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, data_dir=Path(tmp) / "data")
        store = open_store(settings)
        demo.seed_demo(store)
        with store.read() as db:
            fam = next(db.query("SELECT id, agency_id FROM families LIMIT 1"))
        t = time.perf_counter()
        for start in range(0, args.observations, 500):
            with store.write() as db:
                for i in range(start, min(start + 500, args.observations)):
                    records.insert(db, store.keyring, "observation", {
                        "id": new_id(), "agency_id": fam["agency_id"], "family_id": fam["id"], "kind": "fact",
                        "text": f"synthetic observation {i} " * 8, "recorded_by": "u", "recorded_at": "2026-01-01"})
                    audit.record(db, "observation-created", agency_id=fam["agency_id"], family_id=fam["id"])
        write_s = time.perf_counter() - t
        print(f"write {args.observations} observations + audit entries: {write_s:.2f} s "
              f"({args.observations / write_s:.0f}/s)")
        t = time.perf_counter()
        with store.read() as db:
            result = audit.verify(db, store.keyring)
        s = time.perf_counter() - t
        print(f"audit verify {result.entries} entries: {s:.2f} s ({result.entries / s:.0f} entries/s), ok={result.ok}")
        t = time.perf_counter()
        path, manifest = backup(store.path, Path(tmp) / "backups")
        s = time.perf_counter() - t
        print(f"online backup {manifest['bytes'] / 1e6:.1f} MB: {s:.2f} s")
        t = time.perf_counter()
        report = rotate(store, settings.keyring_path, batch_size=500)
        s = time.perf_counter() - t
        print(f"key rotation re-encrypted {report.reencrypted} values: {s:.2f} s ({report.reencrypted / s:.0f} values/s)")
        store.close()


if __name__ == "__main__":
    main()
