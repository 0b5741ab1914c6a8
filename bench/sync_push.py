"""Push throughput: 50 simulated phones push batches of ops concurrently to a real server
process (demo data, its own data directory), and we print ops/s and request latencies.

Each phone signs in (its own device), creates a visit, then keeps pushing batches that
mix new observations (70 %) and edits of its visit's summary (30 %), each batch waiting
for the previous answer as a phone does. Every op goes through the full path: HTTP,
auth, msgspec decoding, client_seq check, merge, field encryption, change log, one
committed transaction per batch.

    .venv/bin/python bench/sync_push.py [--devices 50] [--batch 50] [--seconds 20]

Two runs: closed loop (every phone pushes again as soon as it is answered: the server's
throughput ceiling; latency there is only queueing behind 49 other phones) and open loop
at each --rates load offered (default 2,000 and 600 ops/s): the latency a phone sees at that load.
Targets: >= 2,000 ops/s and p99 < 250 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.ids import new_id  # noqa: E402
from sync.hlc import Clock  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HEARTHSIDE_DATA_DIR": str(data_dir)}
    log = open(data_dir.parent / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "server", "demo", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


class Phone:
    def __init__(self, http: httpx.AsyncClient, token: str, device_id: str, family_id: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clock = Clock(device_id)
        self.family_id = family_id
        self.seq = 0
        self.visit_id = new_id()
        self.summary_version = 0

    def op(self, **fields) -> dict:
        self.seq += 1
        return {"op_id": new_id(), "client_seq": self.seq, "hlc": self.clock.now(), **fields}

    def batch(self, size: int, rng: random.Random) -> list[dict]:
        ops = []
        for _ in range(size):
            if rng.random() < 0.7:
                ops.append(self.op(type="create", entity="observation", entity_id=new_id(),
                                   family_id=self.family_id,
                                   values={"kind": "fact", "visit_id": self.visit_id,
                                           "text": f"Synthetic note {rng.random():.6f}"}))
            else:
                ops.append(self.op(type="set", entity="visit", entity_id=self.visit_id, family_id=self.family_id,
                                   field="summary", value=f"Summary {rng.random():.6f}",
                                   base_version=self.summary_version))
        return ops

    async def push(self, ops: list[dict]) -> dict:
        r = await self.http.post("/api/v1/sync/push", json={"ops": ops}, headers=self.headers)
        r.raise_for_status()
        body = r.json()
        self.clock.observe(body["server_hlc"])
        return body


async def run(url: str, devices: int, batch: int, seconds: float, warmup: float, rate: float = 0) -> None:
    limits = httpx.Limits(max_connections=devices + 10, max_keepalive_connections=devices + 10)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        phones = []
        for i in range(devices):
            user = "practitioner1" if i % 2 == 0 else "practitioner2"
            r = await http.post("/api/v1/auth/login", json={"username": user, "password": "demo-password",
                                                             "device_name": f"bench {i}"})
            r.raise_for_status()
            s = r.json()
            fams = (await http.get("/api/v1/families", headers={"Authorization": f"Bearer {s['access_token']}"}))
            family_id = fams.json()[i // 2 % len(fams.json())]["id"]
            phones.append(Phone(http, s["access_token"], s["device"]["id"], family_id))
        for p in phones:  # each phone opens its visit
            body = await p.push([p.op(type="create", entity="visit", entity_id=p.visit_id, family_id=p.family_id,
                                      values={"type": "targeted", "status": "in-progress"})])
            assert body["results"][0]["status"] == "applied", body

        latencies: list[float] = []
        counts = {"ops": 0, "requests": 0}
        statuses: dict[str, int] = {}
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + seconds

        # Open loop (--rate): each phone pushes on its own timetable, so together they offer
        # ``rate`` ops/s and latency is what a phone waits at that load. Closed loop (no
        # rate): each phone pushes again as soon as answered — the server's ceiling.
        interval = devices * batch / rate if rate else 0.0

        async def drive(p: Phone, seed: int) -> None:
            rng = random.Random(seed)
            next_at = start + rng.uniform(0, interval)
            while time.perf_counter() < stop_at:
                if interval:
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at += interval
                ops = p.batch(batch, rng)
                t0 = time.perf_counter()
                body = await p.push(ops)
                t1 = time.perf_counter()
                for r in body["results"]:
                    if r.get("field_version") and r["status"] == "applied":
                        p.summary_version = max(p.summary_version, r["field_version"])
                if t0 >= measure_from and t1 <= stop_at:
                    latencies.append(t1 - t0)
                    counts["ops"] += len(ops)
                    counts["requests"] += 1
                    for r in body["results"]:
                        statuses[r["status"]] = statuses.get(r["status"], 0) + 1

        await asyncio.gather(*(drive(p, i) for i, p in enumerate(phones)))
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        p50 = statistics.median(latencies) * 1000
        mode = f"open loop, offered {rate:,.0f} ops/s" if rate else "closed loop (each phone pushes again at once)"
        print(f"[{mode}] devices={devices} batch={batch} ops/request, {seconds:.0f} s after {warmup:.0f} s warm-up")
        print(f"requests={counts['requests']} ops={counts['ops']} statuses={statuses}")
        print(f"throughput: {counts['ops'] / seconds:,.0f} ops/s ({counts['requests'] / seconds:,.1f} pushes/s)")
        print(f"push latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        if rate:
            print(f"target p99 < 250 ms at this load -> {'met' if p99 < 250 else 'NOT met'}")
        else:
            print(f"target >= 2,000 ops/s -> {'met' if counts['ops'] / seconds >= 2000 else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--batch", type=int, default=50, help="ops per push request")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--rates", default="2000,600",
                    help="offered loads (ops/s, comma-separated) for the open-loop latency runs; '' skips them")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hs-bench-"))
    port = free_port()
    proc = start_server(tmp / "data", port)
    try:
        url = f"http://127.0.0.1:{port}"
        os.system("uptime")  # the machine is shared: say how busy it was
        asyncio.run(run(url, args.devices, args.batch, args.seconds, args.warmup))
        for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
            asyncio.run(run(url, args.devices, args.batch, args.seconds, args.warmup, rate))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
