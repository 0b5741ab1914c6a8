"""FHIR versions that mean something: a resource's versionId changes exactly when its
content does, Groups are complete whichever item they come with, every person has a
resource, and each checklist version its own response."""

from __future__ import annotations

import json

from tests.agency.fhir_edge import antenatal_family, build_edges
from tests.agency.helpers import bearer, feed_all, make_client, visit


def _resources(bundles):
    return [e["resource"] for b in bundles for e in b.get("entry", [])]


def _body(r):
    return json.dumps({k: v for k, v in r.items() if k != "meta"}, sort_keys=True)


def _cursor(bundle) -> int:
    return next(x["valueInteger"] for x in bundle["meta"]["extension"] if x["url"].endswith("feed-next-cursor"))


def test_no_two_contents_ever_share_an_id_and_version_id_across_the_whole_feed(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    seen: dict[tuple[str, str, str], str] = {}
    build_edges(client, store, world, token)
    for limit in (1, 3, 100):
        for r in _resources(feed_all(client, token, fmt="fhir", limit=limit)):
            key = (r["resourceType"], r["id"], r["meta"]["versionId"])
            assert seen.setdefault(key, _body(r)) == _body(r), key


def test_after_an_address_change_the_patient_and_related_person_carry_it_under_a_new_version(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    h = bearer(token)
    fid, child = world.families["own"], world.persons["own"]
    first = feed_all(client, token, fmt="fhir")
    before = next(r for r in _resources(first) if r["resourceType"] == "Patient" and r["id"] == child)
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()
    assert client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": f'"{fam["version"]}"'},
                        json={"address": "99 Moved Lane"}).status_code == 200
    page = client.get("/api/agency/v1/feed", params={"cursor": _cursor(first[-1]), "format": "fhir"}, headers=h).json()
    after = next(r for r in _resources([page]) if r["resourceType"] == "Patient" and r["id"] == child)
    assert after["address"][0]["text"] == "99 Moved Lane"
    assert after["meta"]["versionId"] != before["meta"]["versionId"]
    # the person record itself did not change: only a digest of the content could tell
    assert before["address"][0]["text"] != after["address"][0]["text"]


def test_groups_have_name_members_and_version_whichever_item_they_come_with(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    edges = build_edges(client, store, world, token)
    fid = world.families["own"]
    for b in feed_all(client, token, fmt="fhir", limit=1):
        for r in _resources([b]):
            if r["resourceType"] == "Group" and r["id"] == fid:
                tags = [t["code"] for t in r["meta"].get("tag", [])]
                assert r["name"] == "Sentinelown" and r["meta"]["versionId"], tags
                assert {"reference": f"Patient/{world.persons['own']}"} in [m["entity"] for m in r["member"]], tags
                assert r["quantity"] == len(r["member"])
    conflict = [r for r in _resources(feed_all(client, token, fmt="fhir"))
                if r["resourceType"] == "Task" and r["id"] == edges["conflict"]]
    assert conflict and conflict[0]["for"] == {"reference": f"Group/{fid}"}


def test_an_expectant_mother_with_no_child_recorded_is_a_patient(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    ante = antenatal_family(store, world)
    resources = _resources(feed_all(client, token, fmt="fhir"))
    mother = [r for r in resources if r["id"] == ante["mother"]]
    assert [r["resourceType"] for r in {r["meta"]["versionId"]: r for r in mother}.values()] == ["Patient"]
    assert mother[0]["name"][0]["given"] == ["Aoife"] and mother[0]["gender"] == "female"


def test_answers_under_two_checklist_versions_give_two_responses_named_by_version(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    edges = build_edges(client, store, world, token)
    qrs = {r["id"]: r for r in _resources(feed_all(client, token, fmt="fhir"))
           if r["resourceType"] == "QuestionnaireResponse" and "safe-sleep" in r["questionnaire"]
           and r["encounter"]["reference"] == f"Encounter/{edges['visit']['visit']}"}
    assert sorted(r["questionnaire"] for r in qrs.values()) == [
        "urn:hearthside:questionnaire:safe-sleep|1", "urn:hearthside:questionnaire:safe-sleep|2"]
    assert sorted(i[-3:] for i in qrs) == ["-v1", "-v2"]


def test_a_response_is_completed_only_when_its_required_items_are_answered(client, store, world):
    from server.content.loader import load_content
    from server.ids import stable_id
    from server.storage import records

    _, token = make_client(store, world.agencies["A"])
    with store.write() as db:  # a baby under one on the visit's date: the night-sleep question is asked
        records.update(db, store.keyring, "person", world.persons["own"], {"date_of_birth": "2026-09-01"})
    ids = visit(store, world)
    safe = load_content(client.app.state.settings.content_dir).checklist("safe-sleep")
    asked = [i.id for i in safe.items if i.required and i.subject in (None, "child") and i.show_if is None
             and "under-1" in (i.age_bands or ["under-1"])]
    assert asked == ["sleep-place-night"]  # which the visit helper answers

    def status() -> str:
        qr = next(r for r in _resources(feed_all(client, token, fmt="fhir"))
                  if r["resourceType"] == "QuestionnaireResponse" and "safe-sleep" in r["questionnaire"])
        read = client.get(f"/api/agency/v1/fhir/QuestionnaireResponse/{qr['id']}", headers=bearer(token)).json()
        assert read["status"] == qr["status"]
        return qr["status"]
    assert status() == "completed"
    with store.write() as db:
        records.tombstone(db, store.keyring, "checklist_response",
                          stable_id(ids["visit"], "safe-sleep", world.persons["own"], "sleep-place-night"))
    assert status() == "in-progress"


def _flat(items):
    for it in items:
        yield it
        yield from _flat(it.get("item", []))


def test_questionnaires_keep_sections_as_groups_and_show_if_as_enable_when(client, store, world):
    from server.content.loader import load_content

    _, token = make_client(store, world.agencies["A"])
    content = load_content(client.app.state.settings.content_dir)
    qs = {e["resource"]["url"].rsplit(":", 1)[1]: e["resource"]
          for e in client.get("/api/agency/v1/fhir/Questionnaire", headers=bearer(token)).json()["entry"]}
    for c in content.checklists:
        q = qs[c.id]
        if c.sections:
            assert [i["linkId"] for i in q["item"] if i["type"] == "group"] == [f"section:{s.id}" for s in c.sections]
        items = {i["linkId"]: i for i in _flat(q["item"])}
        for item in c.items:
            if item.show_if is not None:
                shown = items[item.id]
                assert shown.get("enableWhen") or shown.get("extension"), item.id
                for cond in shown.get("enableWhen", []):
                    assert cond["question"].split(".")[0] in items
    seen = qs["child-seen-alone"]
    alone = next(i for i in _flat(seen["item"]) if i["linkId"] == "seen-alone")
    assert alone["enableWhen"] == [{"question": "child-seen", "operator": "=", "answerCoding": {
        "system": "urn:hearthside:questionnaire:child-seen-alone:child-seen", "code": "yes"}}]


def test_a_flag_starts_when_its_visit_raised_it_and_its_decider_is_in_the_bundle(client, store, world):
    from tests.agency.helpers import decide_flag

    _, token = make_client(store, world.agencies["A"])
    ids = visit(store, world)
    decide_flag(store, world, ids["flag"])
    bundles = feed_all(client, token, fmt="fhir")
    for b in bundles:
        for e in b.get("entry", []):
            r = e["resource"]
            if r["resourceType"] == "Flag" and r["id"] == ids["flag"]:
                assert r["period"]["start"] == "2026-11-20T11:00:00.000Z"
                decision = next(x for x in r["extension"] if x["url"].endswith("flag-decision"))["extension"]
                by = next(x for x in decision if x["url"] == "decidedBy")["valueReference"]["reference"]
                assert by == f"Practitioner/{world.users['sup_a1']}"
                assert by in {f"{x['resource']['resourceType']}/{x['resource']['id']}" for x in b["entry"]}
