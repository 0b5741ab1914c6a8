"""A simulated core system: the file connector against a real server process, killed
(SIGKILL) mid-run at two points, restarted, ending with every item filed exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import REPO, LiveServer


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args, "--data-dir", str(data_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


# Runs the real CLI; with ``fault`` ("after-write:2": at that checkpoint once two pages are
# written) the process is killed there, as a power cut would.
CRASHING_CLI = """
import os, signal, sys
from server.agency.connector import Connector
fault = sys.argv.pop(1)
def checkpoint(self, point):
    if fault == f"{point}:{self.pages_written}":
        os.kill(os.getpid(), signal.SIGKILL)
Connector.checkpoint = checkpoint
from server.cli import main
main(prog_name="hearthside")
"""


def _pull(server: LiveServer, token: str, out: Path, fmt: str, fault: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CRASHING_CLI, fault, "agency", "pull", "--url", server.url,
                           "--token", token, "--out", str(out), "--format", fmt, "--limit", "3"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def _all_feed_items(server: LiveServer, token: str) -> set[str]:
    cursor, keys = 0, set()
    while True:
        r = httpx.get(server.url + "/api/agency/v1/feed", params={"cursor": cursor, "limit": 500},
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)
        body = r.json()
        keys |= {f"{i['type']}/{i['id']}/{i['version']}" for i in body["items"]}
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return keys


def test_connector_killed_before_acknowledging_resumes_and_files_every_item_once(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        made = _cli("agency", "create-client", "--agency", "Demo Health Visiting Service", "--name", "EMIS import",
                    "--scopes", "feed:read", data_dir=server.data_dir)
        assert made.returncode == 0, made.stderr
        token = made.stdout.split("token: ")[1].split()[0]
        expected = _all_feed_items(server, token)
        assert len(expected) > 6, "the demo data should give several pages"
        out = tmp_path / "inbox"

        crashed = _pull(server, token, out, "fhir", fault="after-write:2")  # files written, cursor not saved
        assert crashed.returncode == -signal.SIGKILL
        crashed = _pull(server, token, out, "fhir", fault="after-cursor:1")  # cursor saved, not acknowledged
        assert crashed.returncode == -signal.SIGKILL
        unacked = json.loads(_cli("agency", "unacknowledged", "--agency", "Demo Health Visiting Service",
                                  data_dir=server.data_dir).stdout)
        assert unacked[0]["count"] > 0

        done = _pull(server, token, out, "fhir")
        assert done.returncode == 0, done.stderr

        resources = []
        for f in sorted(out.glob("batches/*/*.ndjson")):
            assert f.stem == json.loads(f.read_text().splitlines()[0])["resourceType"]  # NDJSON per type
            resources += [json.loads(line) for line in f.read_text().splitlines()]
        keys = [(r["resourceType"], r["id"], r.get("meta", {}).get("versionId")) for r in resources]
        assert len(keys) == len(set(keys)), "a resource was filed twice"
        listed = [k for f in out.glob("batches/*/_items.txt") for k in f.read_text().split()]
        assert len(listed) == len(set(listed)), "an item was filed twice"
        assert set(listed) == expected
        tagged = {t["code"] for r in resources for t in r.get("meta", {}).get("tag", [])}
        assert tagged <= expected
        unacked = json.loads(_cli("agency", "unacknowledged", "--agency", "Demo Health Visiting Service",
                                  data_dir=server.data_dir).stdout)
        assert unacked[0]["count"] == 0, unacked[0]["items"][:3]
        again = _pull(server, token, out, "fhir")  # nothing new: nothing more written
        assert json.loads(again.stdout)["written"] == 0
    finally:
        server.stop()


def test_connector_writes_json_and_csv_files(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        made = _cli("agency", "create-client", "--agency", "Demo Health Visiting Service", "--name", "Mosaic",
                    "--scopes", "feed:read", data_dir=server.data_dir)
        token = made.stdout.split("token: ")[1].split()[0]
        expected = _all_feed_items(server, token)
        for fmt, pattern in (("json", "*.ndjson"), ("csv", "*.csv")):
            out = tmp_path / fmt
            assert _pull(server, token, out, fmt).returncode == 0
            import csv

            keys = []
            for f in out.glob(f"batches/*/{pattern}"):
                if fmt == "json":
                    rows = [json.loads(line) for line in f.read_text().splitlines()]
                elif f.name in ("answers.csv", "observations.csv"):
                    continue
                else:
                    rows = list(csv.DictReader(f.open(newline="", encoding="utf-8-sig")))
                keys += [f"{r['type']}/{r['id']}/{r['version']}" for r in rows if r.get("part", "1") == "1"]
            assert sorted(keys) == sorted(expected)
    finally:
        server.stop()


def test_connector_with_a_revoked_token_stops_with_a_clear_message(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        made = _cli("agency", "create-client", "--agency", "Demo Health Visiting Service", "--name", "Old",
                    "--scopes", "feed:read", data_dir=server.data_dir)
        token = made.stdout.split("token: ")[1].split()[0]
        client_id = made.stdout.split("client_id: ")[1].split()[0]
        assert _cli("agency", "revoke-client", client_id, data_dir=server.data_dir).returncode == 0
        r = _pull(server, token, tmp_path / "inbox", "json")
        assert r.returncode == 1 and "401" in r.stderr and "Traceback" not in r.stderr
        assert not list((tmp_path / "inbox").glob("batches/*"))
    finally:
        server.stop()


def test_after_a_family_moves_the_next_pull_files_the_new_patient(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        made = _cli("agency", "create-client", "--agency", "Demo Health Visiting Service", "--name", "SystmOne",
                    "--scopes", "feed:read,families:read,families:write", data_dir=server.data_dir)
        token = made.stdout.split("token: ")[1].split()[0]
        h = {"Authorization": f"Bearer {token}"}
        out = tmp_path / "inbox"
        assert _pull(server, token, out, "fhir").returncode == 0

        def filed(kind: str) -> list[dict]:
            return [json.loads(line) for f in sorted(out.glob(f"batches/*/{kind}.ndjson"), key=lambda p: int(
                p.parent.name)) for line in f.read_text().splitlines()]
        patient = next(p for p in filed("Patient") if p.get("address"))
        group = next(g for g in filed("Group") if {"entity": {"reference": f"Patient/{patient['id']}"}} in
                     g.get("member", []))
        fam = httpx.get(f"{server.url}/api/agency/v1/families/{group['id']}", headers=h, timeout=30).json()
        moved = httpx.patch(f"{server.url}/api/agency/v1/families/{group['id']}", timeout=30,
                            headers={**h, "If-Match": f'"{fam["version"]}"'}, json={"address": "7 New Lane"})
        assert moved.status_code == 200, moved.text

        again = _pull(server, token, out, "fhir")
        assert again.returncode == 0 and json.loads(again.stdout)["written"] > 0
        versions = [p for p in filed("Patient") if p["id"] == patient["id"]]
        assert versions[-1]["address"][0]["text"] == "7 New Lane"
        assert versions[-1]["meta"]["versionId"] != versions[0]["meta"]["versionId"]
    finally:
        server.stop()
