"""One write path: nothing but the merge writes a family's records.

Every change — a phone's op, a REST call, an agency write-back, the server's own rules, the
demo seeder, the CLI — is an op applied by ``sync.merge``. So the record layer's
``insert`` / ``update`` / ``tombstone`` are called only by the merge (``sync/merge.py``,
``sync/conflicts.py``), and no SQL outside the record layer and the migrations writes a
record table itself. Read from the source, so a new bypass fails here before review.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sync.model import ENTITIES

REPO = Path(__file__).resolve().parents[2]
WRITES = {"insert", "update", "tombstone"}
MAY_CALL = {"sync/merge.py", "sync/conflicts.py"}
RECORD_LAYER = "server/storage/records.py"
RECORDS_MODULE = ("server.storage.records", "storage.records", "records")


def sources() -> list[tuple[str, ast.Module]]:
    out = []
    for package in ("server", "sync"):
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            out.append((rel, ast.parse(path.read_text(), filename=rel)))
    return out


def _is_records(module: str | None, name: str | None = None) -> bool:
    full = ".".join(p for p in (module or "", name or "") if p).lstrip(".")
    return any(full == m or full.endswith("." + m) for m in RECORDS_MODULE)


def record_writes(tree: ast.Module) -> list[tuple[int, str]]:
    """Calls of the record layer's writes, however the module or function was imported."""
    modules: set[str] = set()  # names bound to the records module
    functions: set[str] = set()  # names bound to records.insert / update / tombstone
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _is_records(a.name):
                    modules.add(a.asname or a.name)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if _is_records(node.module, a.name):
                    modules.add(a.asname or a.name)
                elif _is_records(node.module) and a.name in WRITES:
                    functions.add(a.asname or a.name)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in WRITES and ast.unparse(f.value) in modules:
            found.append((node.lineno, ast.unparse(f)))
        elif isinstance(f, ast.Name) and f.id in functions:
            found.append((node.lineno, f.id))
        elif isinstance(f, ast.Name) and f.id == "getattr" and node.args and ast.unparse(node.args[0]) in modules:
            found.append((node.lineno, ast.unparse(node)))
    return found


TABLES = "|".join(sorted(e.table for e in ENTITIES.values()))
SQL_WRITE = re.compile(rf"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\[?({TABLES})\]?\b", re.I)


def sql_writes(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = SQL_WRITE.search(node.value)
            if m:
                found.append((node.lineno, m.group(0)))
    return found


def test_only_the_merge_calls_the_record_layers_writes():
    offenders = [f"{rel}:{line} {call}" for rel, tree in sources() if rel not in MAY_CALL | {RECORD_LAYER}
                 for line, call in record_writes(tree)]
    assert offenders == [], "write through sync.merge (ops), not the record layer:\n" + "\n".join(offenders)


def test_no_sql_outside_the_record_layer_writes_a_record_table():
    allowed = {RECORD_LAYER}
    offenders = [f"{rel}:{line} {sql}" for rel, tree in sources()
                 if rel not in allowed and not rel.startswith("server/storage/migrations")
                 for line, sql in sql_writes(tree)]
    assert offenders == [], "a record table written by hand:\n" + "\n".join(offenders)


def test_the_scan_finds_a_bypass_however_it_is_imported():
    """The scan itself: each way of reaching the record layer's writes is caught."""
    for source in (
        "from server.storage import records\nrecords.insert(db, k, 'flag', {})",
        "from ..storage import records as r\nr.update(db, k, 'flag', 'x', {})",
        "import server.storage.records as rec\nrec.tombstone(db, k, 'flag', 'x')",
        "from ..storage.records import insert as put\nput(db, k, 'flag', {})",
        "from server.storage import records\ngetattr(records, 'insert')(db, k, 'flag', {})",
    ):
        assert record_writes(ast.parse(source)), source
    assert not record_writes(ast.parse("from server.storage import records\nrecords.get(db, k, 'flag', 'x')"))
    assert sql_writes(ast.parse("db.execute('UPDATE flags SET status = ? WHERE id = ?')"))
    assert sql_writes(ast.parse("db.execute('INSERT INTO follow_ups (id) VALUES (?)')"))
    assert not sql_writes(ast.parse("db.execute('UPDATE sync_held SET status = ?')"))
