"""Fuzz the whole OpenAPI with schemathesis against a real server process, with the
response-conformance checks on: no 5xx, and every answer's status code, content type,
headers and body as the document says — for a practitioner, an admin and an agency client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


@pytest.fixture(scope="module")
def fuzz_server(module_server):
    return module_server


def _agency_token(server) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "server", "agency", "create-client", "--agency", "Demo Health Visiting Service",
         "--name", "Fuzzer", "--scopes", "feed:read,families:read,families:write",
         "--data-dir", str(server.data_dir)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return made.stdout.split("token: ")[1].split()[0]


@pytest.mark.parametrize("who", ["practitioner1", "admin1", "agency-client"])
def test_fuzzing_the_openapi_finds_no_server_error_and_no_answer_the_document_does_not_describe(
        fuzz_server, who, tmp_path: Path):
    if who == "agency-client":
        token, scope = _agency_token(fuzz_server), ["--include-path-regex", "^/api/agency/"]
    else:
        # Signing out or revoking the fuzzer's own device would end its session early.
        token = fuzz_server.login(who)["access_token"]
        scope = ["--exclude-path", "/api/v1/auth/logout", "--exclude-path-regex", "revoke|^/api/agency/"]
    report = tmp_path / "report"
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{fuzz_server.url}/schema/openapi.json",
        "--header", f"Authorization: Bearer {token}", "--checks", CHECKS, *scope,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "25", "--workers", "1", "--seed", "1",
        "--suppress-health-check", "all", "--warnings", "off",
        "--report", "junit", "--report-dir", str(report),
    ]
    # Run from a scratch folder: schemathesis leaves a cache directory where it runs.
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    assert "generated" in tail and "passed" in tail and "failed" not in tail.split("SUMMARY")[-1].lower().replace("0 failed", "")
