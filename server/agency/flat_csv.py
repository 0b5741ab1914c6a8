"""The feed as spreadsheets an admin can open: one row per feed item (its own fields as
named columns), one row per checklist answer and one per observation. UTF-8 with a BOM (so
Excel reads it as UTF-8), ``true``/``false``, lists joined with ``; ``.

Excel holds at most 32,767 characters in a cell. A row with a longer cell (a child's words
can be long, and are never shortened) is written as several rows, numbered in the columns
``part`` and ``parts``: the long cell's text continues across them, in order, and every
other cell repeats. Join the ``part`` rows of one record to get the whole text back.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable

MAX_CELL = 32_767
ITEM_LEAD = ["type", "id", "version", "seq", "family_id", "changed_at", "deleted", "external_ids"]
ANSWER_LEAD = ["visit_id", "visit_version", "family_id", "completed_at", "checklist_id", "checklist_version",
               "subject_id", "item_id", "answer", "note", "seen_or_told"]
OBSERVATION_LEAD = ["observation_id", "visit_id", "family_id", "kind", "text", "about_person_id", "supersedes_id"]
DERIVED_FILES = ("answers.csv", "observations.csv")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            return "; ".join(cell(v) for v in value)
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, dict):
        if set(value) == {"system", "value"}:
            return f"{value['system']}|{value['value']}"
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _external_ids(ids: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['system']}|{e['value']}" for e in ids)


def _scalars(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record's own fields; a nested object's fields as ``outer.inner``; a list of objects
    is left to its own file (answers, observations) or its own feed item (people)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and prefix == "":
            out.update(_scalars(value, f"{key}."))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            continue
        elif not isinstance(value, dict):
            out[prefix + key] = value
    return out


def item_rows(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in items:
        row = {"type": rec["type"], "id": rec["id"], "version": rec["version"], "seq": rec["seq"],
               "family_id": rec.get("family_id"), "changed_at": rec["changed_at"], "deleted": rec["deleted"],
               "external_ids": _external_ids(rec.get("external_ids", []))}
        row.update({k: v for k, v in _scalars(rec.get("data") or {}).items() if k not in row})
        rows.append(row)
    return rows


def answer_rows(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in items:
        data = rec.get("data") or {}
        for a in data.get("checklist_responses") or []:
            rows.append({"visit_id": rec["id"], "visit_version": rec["version"], "family_id": rec.get("family_id"),
                         "completed_at": data.get("completed_at"), **_scalars(a)})
    return rows


def observation_rows(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in items:
        data = rec.get("data") or {}
        if rec["type"] == "observation":
            rows.append({"observation_id": rec["id"], "observation_version": rec["version"],
                         "family_id": rec.get("family_id"), **_scalars(data)})
        for o in data.get("observations") or [] if rec["type"] == "visit" else []:
            rows.append({"observation_id": o.get("id"), "visit_id": rec["id"], "family_id": rec.get("family_id"),
                         **{k: v for k, v in _scalars(o).items() if k != "id"}})
    return rows


def _split(row: list[str]) -> list[list[str]]:
    """A row whose cells all fit, or its parts (see the module docstring)."""
    longest = max((len(c) for c in row), default=0)
    if longest <= MAX_CELL:
        return [row]
    parts = -(-longest // MAX_CELL)
    out = []
    for n in range(parts):
        out.append([c[n * MAX_CELL:(n + 1) * MAX_CELL] if len(c) > MAX_CELL else c for c in row])
    return out


def to_csv(rows: list[dict[str, Any]], lead: list[str]) -> bytes:
    columns = [c for c in lead if any(c in r for r in rows)] or list(lead)
    columns += sorted({k for r in rows for k in r} - set(columns))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns + ["part", "parts"])
    for r in rows:
        pieces = _split([cell(r.get(c)) for c in columns])
        for n, piece in enumerate(pieces, 1):
            w.writerow(piece + [str(n), str(len(pieces))])
    return buf.getvalue().encode("utf-8-sig")


def files_for(items: list[dict[str, Any]]) -> dict[str, bytes]:
    """``<item type>.csv`` per item type, plus ``answers.csv`` and ``observations.csv``."""
    out: dict[str, bytes] = {}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for rec in items:
        by_type.setdefault(rec["type"], []).append(rec)
    for item_type, recs in by_type.items():
        out[f"{item_type}.csv"] = to_csv(item_rows(recs), ITEM_LEAD)
    answers, observations = answer_rows(items), observation_rows(items)
    if answers:
        out["answers.csv"] = to_csv(answers, ANSWER_LEAD)
    if observations:
        out["observations.csv"] = to_csv(observations, OBSERVATION_LEAD)
    return out


def read_items(raw: bytes) -> list[dict[str, str]]:
    """Rows of an item file (the connector reads its own files back to skip repeats)."""
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
