"""No Docker engine runs here, so the image's steps are proved another way: copy what the
Dockerfile copies, run its install command in a fresh virtual environment, start its CMD
with its ENV (data dir moved to a temp folder) from outside the repository, and run its
HEALTHCHECK command against it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import httpx

from tests.conftest import REPO, free_port


def parse_dockerfile() -> dict:
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#"):
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            lines.append(current.strip())
            current = ""
    spec = {"env": {}, "copy": [], "run": [], "cmd": None, "healthcheck": None, "user": None}
    for line in filter(None, lines):
        word, _, rest = line.partition(" ")
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                spec["env"][key] = value
        elif word == "COPY":
            spec["copy"].append(rest.split()[0])
        elif word == "RUN":
            spec["run"].append(rest)
        elif word == "CMD":
            spec["cmd"] = json.loads(rest)
        elif word == "HEALTHCHECK":
            spec["healthcheck"] = json.loads(rest[rest.index("CMD") + 3:].strip())
        elif word == "USER":
            spec["user"] = rest
    return spec


def test_the_dockerfile_runs_as_a_non_root_user_with_a_health_check():
    spec = parse_dockerfile()
    assert spec["user"] and spec["user"] != "root"
    assert spec["cmd"][:2] == ["hearthside", "serve"] and "0.0.0.0" in spec["cmd"]
    assert spec["healthcheck"] and "/health" in " ".join(spec["healthcheck"])


def test_the_images_install_and_start_steps_work_in_a_fresh_virtualenv(tmp_path):
    spec = parse_dockerfile()
    app = tmp_path / "app"
    app.mkdir()
    for src in spec["copy"]:
        for path in src.split():
            s = REPO / path
            if s.is_dir():
                shutil.copytree(s, app / path, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
            else:
                shutil.copy(s, app / path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_step = next(r for r in spec["run"] if r.startswith("pip install"))
    install = pip_step.split("&&")[0].strip()
    subprocess.run(f"{venv}/bin/{install}", shell=True, cwd=app, check=True, timeout=900)

    port = free_port()
    env = {**os.environ, **spec["env"], "PATH": f"{venv}/bin:{os.environ['PATH']}"}
    env.update({k: str(app / v.removeprefix("/app/")) for k, v in spec["env"].items() if v.startswith("/app/")})
    env["HEARTHSIDE_DATA_DIR"] = str(tmp_path / "data")
    cmd = [c if c != "0.0.0.0" else "127.0.0.1" for c in spec["cmd"]]
    cmd[cmd.index("--port") + 1] = str(port)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen(cmd, cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError(proc.stderr.read().decode() if proc.poll() is not None else "no answer")
        assert "<html" in httpx.get(url + "/").text.lower()
        check = [c.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for c in spec["healthcheck"]]
        check[0] = str(venv / "bin" / check[0])
        assert subprocess.run(check, timeout=30).returncode == 0
        assert (tmp_path / "data" / "hearthside.db").exists()
    finally:
        proc.terminate()
        proc.wait(10)
