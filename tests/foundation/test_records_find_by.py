"""records.find_by: records found by column equalities, without a caller writing SQL.
Column names are checked against the entity's own, so nothing a caller passes reaches
the SQL except as a parameter."""

from __future__ import annotations

import pytest

from server.ids import new_id
from server.storage import records
from tests.factories import build_world


def _follow_ups(store, world) -> dict[str, str]:
    fid, agency = world.families["own"], world.agencies["A"]
    ids = {}
    with store.write() as db:
        for name, status, rule in (("a", "open", "rule-2"), ("b", "done", "rule-1"), ("c", "open", None),
                                   ("d", "cancelled", "rule-2")):
            ids[name] = new_id()
            records.insert(db, store.keyring, "follow_up", {
                "id": ids[name], "agency_id": agency, "family_id": fid, "assignee_id": world.users["prac_a1"],
                "due_at": "2030-01-01T10:00:00.000Z", "rule_id": rule, "text": f"Follow-up {name}",
                "status": status})
        records.tombstone(db, store.keyring, "follow_up", ids["d"])
    return ids


def test_keywords_match_equal_values_lists_any_of_them_and_none_null(store):
    world = build_world(store)
    ids = _follow_ups(store, world)
    fid = world.families["own"]
    with store.read() as db:
        def names(**equals):
            found = records.find_by(db, store.keyring, "follow_up", family_id=fid, **equals)
            return sorted(k for k, v in ids.items() if v in {r["id"] for r in found})

        assert names(status="open") == ["a", "c"]
        assert names(status=["open", "done"]) == ["a", "b", "c"]
        assert names(rule_id=None) == ["c"]
        assert names(rule_id=[None, "rule-1"]) == ["b", "c"]
        assert names(status=[]) == []
        assert names(status="cancelled") == []  # deleted records only when asked for
        found = records.find_by(db, store.keyring, "follow_up", status="cancelled", include_deleted=True)
        assert [(r["id"], r["deleted"], r["text"]) for r in found] == [(ids["d"], True, "Follow-up d")]


def test_results_are_ordered_by_the_columns_named_nulls_first_ascending(store):
    world = build_world(store)
    ids = _follow_ups(store, world)
    fid = world.families["own"]
    with store.read() as db:
        up = records.find_by(db, store.keyring, "follow_up", family_id=fid, order_by=("rule_id", "id"))
        down = records.find_by(db, store.keyring, "follow_up", family_id=fid, order_by=("-rule_id", "id"))
        first = records.find_by(db, store.keyring, "follow_up", family_id=fid, order_by=("-rule_id",), limit=1)
    assert [r["id"] for r in up] == [ids["c"], ids["b"], ids["a"]]
    assert [r["id"] for r in down] == [ids["a"], ids["b"], ids["c"]]
    assert [r["id"] for r in first] == [ids["a"]]


def test_booleans_match_as_stored(store):
    world = build_world(store)
    with store.read() as db:
        active = records.find_by(db, store.keyring, "allocation", family_id=world.families["own"], active=True)
        ended = records.find_by(db, store.keyring, "allocation", family_id=world.families["own"], active=False)
    assert active and all(a["active"] is True for a in active)
    assert all(a["active"] is False for a in ended)


def test_names_that_are_not_columns_and_encrypted_fields_are_refused(store):
    world = build_world(store)
    with store.read() as db:
        with pytest.raises(KeyError):
            records.find_by(db, store.keyring, "family", **{"id = id OR 1": 1})
        with pytest.raises(KeyError):
            records.find_by(db, store.keyring, "family", order_by=("id; DROP TABLE families",))
        with pytest.raises(KeyError):
            records.find_by(db, store.keyring, "family", colour="blue")
        with pytest.raises(ValueError):  # stored encrypted: equal values never compare equal
            records.find_by(db, store.keyring, "family", family_name="Sentinelown")
        assert len(records.find_by(db, store.keyring, "family", id=world.families["own"])) == 1


def test_a_field_named_like_a_parameter_is_still_a_column(store):
    world = build_world(store)
    with store.read() as db:
        # Conflicts have fields called entity and field: they are filters, not arguments.
        assert records.find_by(db, store.keyring, "conflict", entity="person", field="language",
                               entity_id=world.persons["own"]) == []
