"""Helpers shared by the security tests."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def dump_tables(db_path: Path, exclude: tuple[str, ...] = ("audit_events",)) -> dict[str, list[tuple]]:
    """Every row of every table (bar ``exclude``), in a stable order: a before/after
    comparison shows any change at all."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in tables
                if t not in exclude}
    finally:
        conn.close()


def cli(*args: str, data_dir: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "server", *args]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed: {result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def world(store):
    from tests.factories import build_world

    return build_world(store)
