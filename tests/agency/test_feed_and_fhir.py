from __future__ import annotations

from tests.agency.fhir_check import bundle_problems, questionnaire_link_ids, response_link_ids
from tests.agency.helpers import CHILD_WORDS, add_father, bearer, decide_flag, feed_all, make_client, visit


def _items(pages):
    return [i for p in pages for i in p["items"]]


def test_feed_has_signed_visits_with_answers_words_flags_and_follow_ups_but_no_drafts(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    add_father(store, world)
    signed = visit(store, world)
    draft = visit(store, world, sign=False)
    items = _items(feed_all(client, token))
    keys = {(i["type"], i["id"]) for i in items}
    assert ("visit", signed["visit"]) in keys
    assert ("flag", signed["flag"]) in keys and ("follow_up", signed["follow_up"]) in keys
    assert all(i["id"] not in draft.values() for i in items), "draft visit data leaked into the feed"
    v = next(i for i in items if i["id"] == signed["visit"])
    assert {r["item_id"] for r in v["data"]["checklist_responses"]} >= {"sleep-place-night", "child-declined-reason"}
    assert [o["text"] for o in v["data"]["observations"]] == [CHILD_WORDS]
    assert all(isinstance(i["version"], int) and i["id"] for i in items)


def test_draft_visit_data_arrives_when_signed_and_changed_items_come_again_with_higher_version(client, store, world):
    from server.storage import records

    _, token = make_client(store, world.agencies["A"])
    draft = visit(store, world, sign=False)
    first = feed_all(client, token)
    cursor = first[-1]["next_cursor"]
    assert not [i for i in _items(first) if i["id"] in draft.values()]
    with store.write() as db:
        records.update(db, store.keyring, "visit", draft["visit"], {"status": "completed",
                                                                    "completed_at": "2026-11-21T10:00:00.000Z"})
    r = client.get("/api/agency/v1/feed", params={"cursor": cursor}, headers=bearer(token))
    got = {(i["type"], i["id"]): i["version"] for i in r.json()["items"]}
    assert ("visit", draft["visit"]) in got and ("flag", draft["flag"]) in got and ("follow_up", draft["follow_up"]) in got
    before = got[("flag", draft["flag"])]
    decide_flag(store, world, draft["flag"])
    r2 = client.get("/api/agency/v1/feed", params={"cursor": r.json()["next_cursor"]}, headers=bearer(token))
    again = [i for i in r2.json()["items"] if i["id"] == draft["flag"]]
    assert len(again) == 1 and again[0]["version"] > before
    assert again[0]["data"]["decision"] == "Safe sleep plan agreed"


def test_paging_one_item_at_a_time_gives_every_item_once_in_change_order(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    visit(store, world, "other_team", practitioner="prac_a2")
    whole = _items(feed_all(client, token, limit=500))
    paged = _items(feed_all(client, token, limit=1))
    assert [(i["type"], i["id"], i["version"]) for i in paged] == [(i["type"], i["id"], i["version"]) for i in whole]
    assert len({(i["type"], i["id"]) for i in paged}) == len(paged)
    assert [i["seq"] for i in paged] == sorted(i["seq"] for i in paged)


def test_fhir_feed_validates_against_r4_and_every_answer_names_a_questionnaire_item(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    father = add_father(store, world)
    ids = visit(store, world)
    decide_flag(store, world, ids["flag"])
    qs = client.get("/api/agency/v1/fhir/Questionnaire", headers=bearer(token))
    assert qs.status_code == 200 and qs.headers["content-type"].startswith("application/fhir+json")
    qbundle = qs.json()
    assert bundle_problems(qbundle) == []
    questionnaires = {f"{e['resource']['url']}|{e['resource']['version']}": e["resource"] for e in qbundle["entry"]}
    assert len(questionnaires) >= 5

    bundles = feed_all(client, token, fmt="fhir", limit=2)
    resources = [e["resource"] for b in bundles for e in b.get("entry", [])]
    for b in bundles:
        assert b["type"] == "collection"
        assert bundle_problems(b) == [], bundle_problems(b)
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    assert {"Encounter", "QuestionnaireResponse", "Observation", "Flag", "Task", "Patient", "RelatedPerson"} <= set(by_type)

    qrs = by_type["QuestionnaireResponse"]
    assert {qr["questionnaire"].split("|")[0].rsplit(":", 1)[1] for qr in qrs} >= {"safe-sleep", "child-seen-alone", "icon"}
    for qr in qrs:
        q = questionnaires[qr["questionnaire"]]
        link_ids = questionnaire_link_ids(q)
        used = response_link_ids(qr)
        assert used and set(used) <= link_ids, set(used) - link_ids
        for item in qr["item"]:
            spec = next(i for i in q["item"] if i["linkId"] == item["linkId"])
            options = {o["valueCoding"]["code"] for o in spec.get("answerOption", [])}
            for a in item.get("answer", []):
                if "valueCoding" in a:
                    assert a["valueCoding"]["code"] in options

    words = [o for o in by_type["Observation"] if o["code"]["coding"][0]["code"] == "child-words"]
    assert words and words[0]["valueString"] == CHILD_WORDS
    icon = next(qr for qr in qrs if "icon" in qr["questionnaire"])
    assert icon["subject"]["reference"] == f"RelatedPerson/{father}"
    related = next(r for r in by_type["RelatedPerson"] if r["id"] == father)
    assert related["relationship"][0]["coding"][0]["code"] == "FTH"
    assert related["patient"]["reference"] == f"Patient/{world.persons['own']}"
    flag = next(f for f in by_type["Flag"] if f["id"] == ids["flag"])
    assert any(x["url"].endswith("flag-decision") for x in flag["extension"])


def test_agency_identifiers_sent_back_are_used_in_fhir(client, store, world):
    _, token = make_client(store, world.agencies["A"], identifier_system="https://core.example.org/id")
    ids = visit(store, world)
    items = _items(feed_all(client, token))
    v = next(i for i in items if i["id"] == ids["visit"])
    r = client.post("/api/agency/v1/acks", headers=bearer(token),
                    json=[{"item_type": "visit", "id": v["id"], "version": v["version"], "external_id": "ENC-0042"}])
    assert r.status_code == 200, r.text
    fam = client.get(f"/api/agency/v1/families/{world.families['own']}", headers=bearer(token)).json()
    child = next(p for p in fam["persons"] if p["role"] == "child")
    r = client.patch(f"/api/agency/v1/families/{world.families['own']}/persons/{child['id']}",
                     headers={**bearer(token), "If-Match": f'"{child["version"]}"'},
                     json={"external_ids": [{"value": "PT-77"}], "language": "Polish"})
    assert r.status_code == 200, r.text
    resources = [e["resource"] for b in feed_all(client, token, fmt="fhir") for e in b.get("entry", [])]
    enc = next(r for r in resources if r["resourceType"] == "Encounter")
    assert {"system": "https://core.example.org/id", "value": "ENC-0042", "use": "usual"} in enc["identifier"]
    patient = next(r for r in resources if r["resourceType"] == "Patient" and r["id"] == child["id"])
    assert {"system": "https://core.example.org/id", "value": "PT-77", "use": "usual"} in patient["identifier"]


def test_unacknowledged_items_are_listed_for_the_admin_with_their_age(client, store, world):
    from tests.factories import auth, login

    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    items = _items(feed_all(client, token))
    admin = auth(login(client, "admin_a"))
    before = client.get("/api/v1/admin/agency/unacknowledged", headers=admin).json()
    assert before[0]["count"] == len(items) and before[0]["oldest_age_seconds"] >= 0
    acks = [{"item_type": i["type"], "id": i["id"], "version": i["version"]} for i in items[:-1]]
    assert client.post("/api/agency/v1/acks", headers=bearer(token), json=acks).status_code == 200
    after = client.get("/api/v1/admin/agency/unacknowledged", headers=admin).json()
    assert [(p["item_type"], p["id"]) for p in after[0]["items"]] == [(items[-1]["type"], items[-1]["id"])]
    practitioner = auth(login(client, "prac_a1"))
    assert client.get("/api/v1/admin/agency/unacknowledged", headers=practitioner).status_code == 403


def test_bad_acknowledgements_are_refused_with_field_detail_and_record_nothing(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    ids = visit(store, world)
    r = client.post("/api/agency/v1/acks", headers=bearer(token), json=[
        {"item_type": "visit", "id": ids["visit"], "version": 1},
        {"item_type": "visit", "id": ids["visit"], "version": 99}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body[1].version"
    with store.read() as db:
        assert next(db.query("SELECT COUNT(*) AS n FROM feed_acks"))["n"] == 0


def test_the_r4_check_itself_refuses_wrong_structure_and_codes():
    from tests.agency.fhir_check import resource_problems

    assert resource_problems({"resourceType": "Flag", "id": "x", "status": "active"})  # Flag.code, subject missing
    assert resource_problems({"resourceType": "Encounter", "id": "x", "status": "done",
                              "class": {"code": "HH"}})
    assert resource_problems({"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "t"},
                              "valueText": "R5-only element"})


def test_bad_feed_parameters_get_a_problem_with_field_detail(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    for params in ({"cursor": -1}, {"limit": 0}, {"limit": 100000}, {"format": "xml"}, {"cursor": "abc"}):
        r = client.get("/api/agency/v1/feed", params=params, headers=bearer(token))
        assert r.status_code == 400, params
        assert r.headers["content-type"].startswith("application/problem+json")
        # (the foundation names the source "ParamType.QUERY.<name>"; reported to the lead)
        assert r.json()["errors"][0]["field"].endswith("." + next(iter(params))), r.json()


def test_every_feed_read_is_audited_without_personal_data(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    visit(store, world)
    feed_all(client, token)
    with store.read() as db:
        rows = list(db.query("SELECT * FROM audit_events WHERE action = 'agency-feed-read'"))
        last_used = next(db.query("SELECT last_used_at FROM integration_clients"))["last_used_at"]
    assert rows and rows[0]["client_id"] and last_used
    assert CHILD_WORDS not in str(rows) and "Sentinel" not in str(rows)


def test_the_demo_data_as_fhir_validates_and_cites_only_real_questionnaire_items(client, store):
    from server.demo import AGENCY, seed_demo

    seed_demo(store)
    with store.read() as db:
        agency_id = next(db.query("SELECT id FROM agencies WHERE name = ?", [AGENCY]))["id"]
    _, token = make_client(store, agency_id)
    qbundle = client.get("/api/agency/v1/fhir/Questionnaire", headers=bearer(token)).json()
    questionnaires = {f"{e['resource']['url']}|{e['resource']['version']}": e["resource"] for e in qbundle["entry"]}
    bundles = feed_all(client, token, fmt="fhir", limit=25)
    assert sum(len(b.get("entry", [])) for b in bundles) > 20
    for b in bundles:
        assert bundle_problems(b) == []
        for e in b.get("entry", []):
            r = e["resource"]
            if r["resourceType"] == "QuestionnaireResponse":
                assert set(response_link_ids(r)) <= questionnaire_link_ids(questionnaires[r["questionnaire"]])


def test_relationship_and_allocation_changes_reach_the_feed_as_new_versions(client, store, world):
    from server.ids import new_id

    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    h = bearer(token)
    carer = client.post(f"/api/agency/v1/families/{fid}/persons", headers=h,
                        json={"role": "male-carer", "given_name": "Lee", "sex": "male"}).json()
    first = feed_all(client, token, fmt="fhir")
    cursor = int(first[-1]["meta"]["extension"][0]["valueInteger"])
    before = next(e["resource"] for b in first for e in b.get("entry", [])
                  if e["resource"]["resourceType"] == "RelatedPerson" and e["resource"]["id"] == carer["id"])
    rel = client.post(f"/api/agency/v1/families/{fid}/relationships", headers=h,
                      json={"id": new_id(), "adult_id": carer["id"], "child_id": world.persons["own"],
                            "relationship": "mother's partner"}).json()
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()
    alloc = fam["allocations"][0]
    client.put(f"/api/agency/v1/families/{fid}/allocations/{alloc['practitioner_id']}",
               headers={**h, "If-Match": f'"{alloc["version"]}"'}, json={"active": False})
    r = client.get("/api/agency/v1/feed", params={"cursor": cursor, "format": "fhir"}, headers=h)
    bundle = r.json()
    assert bundle_problems(bundle) == []
    resources = [e["resource"] for e in bundle["entry"]]
    after = next(x for x in resources if x["resourceType"] == "RelatedPerson" and x["id"] == carer["id"])
    assert after["meta"]["versionId"] != before["meta"]["versionId"]
    assert f"relationship/{rel['id']}/1" in {t["code"] for t in after["meta"]["tag"]}
    assert any("mother's partner" in c.get("text", "") for c in after["relationship"])
    team = next(x for x in resources if x["resourceType"] == "CareTeam")
    assert team["status"] == "inactive" and team["participant"][0]["member"]["reference"].startswith("Practitioner/")


def test_more_acknowledgements_than_the_limit_are_refused_whole(client, store, world):
    from server.agency.acks import MAX_ACKS

    _, token = make_client(store, world.agencies["A"])
    ids = visit(store, world)
    one = {"item_type": "visit", "id": ids["visit"], "version": 1}
    r = client.post("/api/agency/v1/acks", headers=bearer(token), json=[one] * (MAX_ACKS + 1))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    with store.read() as db:
        assert next(db.query("SELECT COUNT(*) AS n FROM feed_acks"))["n"] == 0
