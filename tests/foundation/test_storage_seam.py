"""Storage owns all SQL: no module outside ``server/storage/`` writes SQL, reaches a
database driver, or imports one. That is what lets PostgreSQL sit behind the same calls
as SQLite, and what keeps a constraint or a lock a storage error rather than a driver's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DRIVERS = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool"}
DRIVER_CALLS = {"execute", "executemany", "executescript", "conn"}
SQL = re.compile(
    r"\b(SELECT\s[\s\S]*\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|SAVEPOINT\b|ROLLBACK\b|PRAGMA\b|CREATE\s+(TABLE|INDEX)\b)"
    r"|\b\w+\s*(=|<|>|!=|\bIS\b|\bLIKE\b)\s*\?"
)


def offences(source: str) -> list[str]:
    """What in ``source`` belongs in storage: driver imports, driver calls, SQL text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append(f"imports {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in DRIVER_CALLS:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "db":
            found.append(f"line {node.lineno}: a table by name (db[...])")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"line {node.lineno}: SQL text")
    return found


def test_the_detector_finds_sql_driver_calls_and_driver_imports():
    assert offences("import sqlite3")
    assert offences("from psycopg import sql")
    assert offences("db.execute('x')")
    assert offences("db.conn")
    assert offences("db['users'].insert({})")
    assert offences("q = 'SELECT id FROM visits WHERE family_id = ?'")
    assert offences("q = f'family_id = ? AND {cond}'")
    assert offences("q = 'UPDATE flags SET status = 1'")
    assert not offences("text = 'Select the family from the list'")
    assert not offences("service.update_flag(tx, flag_id)")


def test_no_module_outside_storage_issues_sql_or_imports_a_driver():
    storage = REPO / "server" / "storage"
    found = {}
    for path in sorted([*(REPO / "server").rglob("*.py"), *(REPO / "sync").rglob("*.py")]):
        if storage in path.parents:
            continue
        bad = offences(path.read_text())
        if bad:
            found[str(path.relative_to(REPO))] = bad
    assert found == {}
