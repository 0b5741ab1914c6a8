"""Fuzz the whole OpenAPI with schemathesis against a real server process: no 5xx and no
response that breaks its documented schema, for a practitioner and for an admin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest



@pytest.fixture(scope="module")
def fuzz_server(module_server):
    return module_server


@pytest.mark.parametrize("username", ["practitioner1", "admin1"])
def test_fuzzing_the_openapi_finds_no_server_error_or_schema_break(fuzz_server, username, tmp_path: Path):
    token = fuzz_server.login(username)["access_token"]
    report = tmp_path / "report"
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{fuzz_server.url}/schema/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance",
        # Signing out or revoking the fuzzer's own device would end its session early.
        "--exclude-path", "/api/v1/auth/logout", "--exclude-path-regex", "revoke",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "25", "--workers", "1", "--seed", "1",
        "--suppress-health-check", "all", "--warnings", "off",
        "--report", "junit", "--report-dir", str(report),
    ]
    # Run from a scratch folder: schemathesis leaves a cache directory where it runs.
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    tail = result.stdout[-4000:]
    assert result.returncode == 0, tail
    assert "generated" in tail and "passed" in tail and "failed" not in tail.split("SUMMARY")[-1].lower().replace("0 failed", "")
