"""The CSV files an admin opens in a spreadsheet: flat rows with named columns, one per
feed item, checklist answer and observation; BOM, true/false, no cell over Excel's limit."""

from __future__ import annotations

import csv
import io

from server.agency import flat_csv


def _rows(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_files_have_a_row_per_answer_and_observation_named_columns_and_true_false(client, store, world):
    from tests.agency.helpers import bearer, make_client, visit

    visit(store, world)
    _, token = make_client(store, world.agencies["A"], ("feed:read",))
    items, cursor = [], 0
    while True:
        page = client.get("/api/agency/v1/feed", params={"cursor": cursor, "limit": 50}, headers=bearer(token)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    visits = [i for i in items if i["type"] == "visit"]
    want_answers = sum(len(v["data"].get("checklist_responses") or []) for v in visits)
    want_obs = (sum(len(v["data"].get("observations") or []) for v in visits)
                + sum(1 for i in items if i["type"] == "observation"))
    assert want_answers > 0 and want_obs > 0

    built = flat_csv.files_for(items)  # what the connector writes for --format csv
    answers = _rows(built["answers.csv"])
    observations = _rows(built["observations.csv"])
    assert len(answers) == want_answers and len(observations) == want_obs
    assert {"visit_id", "checklist_id", "item_id", "answer", "seen_or_told"} <= set(answers[0])
    assert {"observation_id", "kind", "text"} <= set(observations[0])
    texts = {o["text"] for v in visits for o in v["data"].get("observations") or []}
    assert texts and texts <= {r["text"] for r in observations}  # verbatim, not escaped

    for name, raw in built.items():
        rows = _rows(raw)
        assert all(len(c) <= flat_csv.MAX_CELL for r in rows for c in r.values())
        assert not any(c.startswith(("{", "[")) for r in rows for k, c in r.items() if k != "external_ids"), name
        if name not in flat_csv.DERIVED_FILES:
            assert {r["deleted"] for r in rows} <= {"true", "false"}
            assert "data" not in rows[0]
    bools = {c for r in _rows(built["visit.csv"]) for c in r.values()}
    assert not bools & {"True", "False"}


def test_a_cell_longer_than_excel_holds_continues_over_numbered_rows_and_joins_back():
    words = "I don't like it when he shouts. " * 3000  # 96,000 characters
    item = {"type": "observation", "id": "0193-o", "version": 1, "seq": 7, "family_id": "0193-f",
            "changed_at": "2026-11-20T11:00:00.000Z", "deleted": False, "external_ids": [],
            "data": {"kind": "child-words", "text": words, "about_person_id": "0193-c", "shared": True}}
    files = flat_csv.files_for([item])
    for name in ("observation.csv", "observations.csv"):
        rows = _rows(files[name])
        assert [r["part"] for r in rows] == ["1", "2", "3"] and {r["parts"] for r in rows} == {"3"}
        assert all(len(c) <= flat_csv.MAX_CELL for r in rows for c in r.values())
        assert "".join(r["text"] for r in rows) == words
        assert {r["kind"] for r in rows} == {"child-words"} and {r["shared"] for r in rows} == {"true"}
