"""The live schema agrees with the one model (``sync.model``): a migration and the model
cannot drift apart unnoticed. The first schema spelled an observation kind one way and the
model another, and the database refused what the phone offered."""

from __future__ import annotations

import re

import pytest

from server.storage.crypto import Keyring
from server.storage.db import open_database
from sync.model import ENTITIES

# ``CHECK (col IN ('a', 'b'))``, optionally ``CHECK (col IS NULL OR col IN (...))``.
CHECK_IN = re.compile(r"CHECK\s*\(\s*(?:(\w+)\s+IS\s+NULL\s+OR\s+)?(\w+)\s+IN\s*\(((?:[^()']|'(?:[^']|'')*')*)\)\s*\)",
                      re.IGNORECASE)
QUOTED = re.compile(r"'((?:[^']|'')*)'")


def allowed_values(sql: str) -> list[tuple[str, list[str]]]:
    out = []
    for m in CHECK_IN.finditer(sql):
        if m.group(1) and m.group(1) != m.group(2):
            continue  # not a one-column list of values
        out.append((m.group(2), [v.replace("''", "'") for v in QUOTED.findall(m.group(3))]))
    return out


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    store = open_database(tmp_path_factory.mktemp("schema") / "h.db", Keyring.generate())
    db = store.connect()
    tables = {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
    columns = {e.table: {r[1]: {"notnull": bool(r[3]), "default": r[4]}
                         for r in db.execute(f"PRAGMA table_info({e.table})")} for e in ENTITIES.values()}
    yield tables, columns
    store.close()


def test_the_parser_reads_a_constraint_as_the_migrations_write_it():
    sql = "kind TEXT NOT NULL CHECK (kind IN ('fact', 'child''s words')),\n" \
          "attention TEXT CHECK (attention IS NULL OR attention IN ('a', 'b'))"
    assert allowed_values(sql) == [("kind", ["fact", "child's words"]), ("attention", ["a", "b"])]


def test_every_allowed_values_constraint_on_a_model_table_lists_the_models_choices(schema):
    tables, _ = schema
    seen = set()
    for e in ENTITIES.values():
        assert e.table in tables, f"the model names a table the schema lacks: {e.table}"
        for column, values in allowed_values(tables[e.table]):
            f = e.field(column)
            assert f is not None and f.type == "choice", \
                f"{e.table}.{column} has a list of allowed values but is not a choice field of {e.name}"
            assert sorted(values) == sorted(f.values), \
                f"{e.table}.{column}: the database allows {sorted(values)}, the model {sorted(f.values)}"
            seen.add((e.name, column))
    # Not vacuous: the constraints the first schema got wrong are among those compared.
    assert {("observation", "kind"), ("observation", "attention"), ("checklist_response", "seen_or_told"),
            ("visit", "status"), ("flag", "severity")} <= seen


def test_the_database_never_refuses_an_empty_value_the_model_allows(schema):
    _, columns = schema
    for e in ENTITIES.values():
        for f in e.fields:
            col = columns[e.table].get(f.name)
            assert col is not None, f"{e.table} has no column for the model's {e.name}.{f.name}"
            if col["notnull"]:
                # Never empty by the model: required, given a default, or filled by the server.
                assert f.required or f.default is not None or f.server_owned, \
                    f"{e.table}.{f.name} is NOT NULL but the model lets it be empty"
