from __future__ import annotations

from click.testing import CliRunner

from server.agency.clients import revoke_client, rotate_client
from sync.merge import apply_ops
from sync.protocol import SetOp
from server.storage import records
from server.storage.records import Actor
from tests.agency.helpers import bearer, feed_all, make_client, visit


def test_a_client_of_agency_a_gets_nothing_of_agency_b(client, store, world):
    _, token_a = make_client(store, world.agencies["A"])
    b_visit = visit(store, world, "other_agency", practitioner="prac_b1")
    visit(store, world)
    items = [i for p in feed_all(client, token_a) for i in p["items"]]
    assert items and all(i["family_id"] != world.families["other_agency"] for i in items)
    b_family = world.families["other_agency"]
    assert client.get(f"/api/agency/v1/families/{b_family}", headers=bearer(token_a)).status_code == 404
    r = client.patch(f"/api/agency/v1/families/{b_family}", headers={**bearer(token_a), "If-Match": '"1"'},
                     json={"address": "1 Elsewhere"})
    assert r.status_code == 404
    r = client.put(f"/api/agency/v1/families/{b_family}", headers=bearer(token_a), json={"family_name": "Taken"})
    assert r.status_code == 404
    r = client.post("/api/agency/v1/acks", headers=bearer(token_a),
                    json=[{"item_type": "visit", "id": b_visit["visit"], "version": 1}])
    assert r.status_code == 422
    with store.read() as db:
        assert records.get(db, store.keyring, "family", b_family)["family_name"] == "Sentinelother_agency"


def test_revoked_and_rotated_tokens_are_refused_at_once(client, store, world):
    client_id, token = make_client(store, world.agencies["A"])
    assert client.get("/api/agency/v1/feed", headers=bearer(token)).status_code == 200
    with store.write() as db:
        _, new_token = rotate_client(db, client_id)
    assert client.get("/api/agency/v1/feed", headers=bearer(token)).status_code == 401
    assert client.get("/api/agency/v1/feed", headers=bearer(new_token)).status_code == 200
    with store.write() as db:
        revoke_client(db, client_id)
    r = client.get("/api/agency/v1/feed", headers=bearer(new_token))
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/agency/v1/feed").status_code == 401
    assert client.get("/api/agency/v1/feed", headers=bearer("hsa_guess")).status_code == 401


def test_scopes_limit_what_a_client_may_do(client, store, world):
    _, reader = make_client(store, world.agencies["A"], scopes=("feed:read",))
    r = client.patch(f"/api/agency/v1/families/{world.families['own']}", headers={**bearer(reader), "If-Match": '"1"'},
                     json={"phone": "01632 960000"})
    assert r.status_code == 403
    _, writer = make_client(store, world.agencies["A"], scopes=("families:write",))
    assert client.get("/api/agency/v1/feed", headers=bearer(writer)).status_code == 403


def test_tokens_and_webhook_secrets_are_never_stored_in_clear(settings, store, world):
    from server.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["agency", "create-client", "--agency", "Agency A", "--name", "RiO",
                               "--scopes", "feed:read,families:write", "--webhook-url", "http://127.0.0.1:9/hook",
                               "--data-dir", str(settings.data_dir)])
    assert out.exit_code == 0, out.output
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    token, secret, client_id = lines["token"], lines["webhook_secret"], lines["client_id"]
    rotated = runner.invoke(main, ["agency", "rotate-client", client_id, "--data-dir", str(settings.data_dir)])
    new_token = rotated.stdout.split("token: ")[1].strip()
    listing = runner.invoke(main, ["agency", "list-clients", "--data-dir", str(settings.data_dir)])
    assert client_id in listing.stdout and new_token not in listing.stdout
    store.close()
    blob = b"".join(p.read_bytes() for p in settings.data_dir.glob("hearthside.db*"))
    for value in (token, new_token, secret):
        assert value.encode() not in blob
    with store.read() as db:
        dump = "\n".join(db.conn.iterdump())
    assert token not in dump and new_token not in dump and secret not in dump


def test_write_back_creates_and_updates_families_people_relationships_and_allocations(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    h = bearer(token)
    r = client.post("/api/agency/v1/families", headers=h, json={
        "family_name": "Okafor", "address": "9 Birch Close", "postcode": "EV4 4AA", "team_id": world.teams["A1"],
        "external_ids": [{"value": "CASE-1001"}]})
    assert r.status_code == 201, r.text
    fid, etag = r.json()["id"], r.headers["etag"]
    assert client.get("/api/agency/v1/families", params={"external_id": "CASE-1001"}, headers=h).json()["id"] == fid
    child = client.post(f"/api/agency/v1/families/{fid}/persons", headers=h,
                        json={"role": "child", "given_name": "Ada", "date_of_birth": "2026-09-01",
                              "nhs_number": "999 000 0018"}).json()
    carer = client.post(f"/api/agency/v1/families/{fid}/persons", headers=h,
                        json={"role": "male-carer", "given_name": "Sam", "sex": "male"}).json()
    rel = client.post(f"/api/agency/v1/families/{fid}/relationships", headers=h,
                      json={"adult_id": carer["id"], "child_id": child["id"], "relationship": "mother's partner"})
    assert rel.status_code == 201, rel.text
    r = client.put(f"/api/agency/v1/families/{fid}/allocations/{world.users['prac_a1']}", headers=h,
                   json={"active": True})
    assert r.status_code == 201
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": etag}, json={"phone": "01632 960001"})
    assert r.status_code == 200 and r.json()["phone"] == "01632 960001"
    # The practitioner now sees the family (the phone gets it on its next pull).
    from tests.factories import auth, login
    prac = auth(login(client, "prac_a1"))
    assert fid in [f["id"] for f in client.get("/api/v1/families/", headers=prac).json()]
    alloc = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()["allocations"][0]
    r = client.put(f"/api/agency/v1/families/{fid}/allocations/{world.users['prac_a1']}",
                   headers={**h, "If-Match": f'"{alloc["version"]}"'}, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert fid not in [f["id"] for f in client.get("/api/v1/families/", headers=prac).json()]
    with store.read() as db:
        entries = list(db.query("SELECT actor_client_id FROM change_log WHERE family_id = ?", [fid]))
        assert entries and all(e["actor_client_id"] for e in entries)


def test_write_back_needs_if_match_and_refuses_bad_input_without_change(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    r = client.patch(f"/api/agency/v1/families/{fid}", headers=bearer(token), json={"phone": "0"})
    assert r.status_code == 428
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**bearer(token), "If-Match": '"1"'},
                     json={"postcode": "FAR TOO LONG POSTCODE"})
    assert r.status_code == 400 and r.json()["errors"]
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**bearer(token), "If-Match": '"1"'},
                     json={"colour": "blue"})
    assert r.status_code == 400
    with store.read() as db:
        fam = records.get(db, store.keyring, "family", fid)
        assert fam["version"] == 1 and fam["postcode"] == "EV9 9ZZ"


def test_stale_write_back_gets_409_with_current_values_and_conflicting_fields(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    with store.write() as db:  # someone else changes the address after the core system read version 1
        records.update(db, store.keyring, "family", fid, {"address": "2 New Road"}, Actor(user_id=world.users["sup_a1"]))
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**bearer(token), "If-Match": '"1"'},
                     json={"address": "3 Other Road", "phone": "01632 960002"})
    assert r.status_code == 409
    body = r.json()
    assert body["conflicting_fields"] == ["address"] and body["applied_fields"] == ["phone"]
    assert body["conflicts"][0]["current"] == "2 New Road" and body["conflicts"][0]["yours"] == "3 Other Road"
    assert body["current"]["phone"] == "01632 960002"
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=bearer(token)).json()
    values = {c["value"] for c in fam["conflicts"][0]["candidates"]}
    assert values == {"2 New Road", "3 Other Road"}


def test_a_clients_stale_if_match_never_overwrites_its_own_newer_write(client, store, world):
    """Two workers share one integration token: the second, still holding version 1, is
    told its write conflicts with the first's; both values are kept for a person."""
    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    h = bearer(token)
    first = client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": '"1"'},
                         json={"phone": "01632 960010"})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    stale = client.patch(f"/api/agency/v1/families/{fid}", headers={**h, "If-Match": '"1"'},
                         json={"phone": "01632 960011"})
    assert stale.status_code == 409, stale.text
    body = stale.json()
    assert body["conflicting_fields"] == ["phone"] and body["conflicts"][0]["conflict_id"]
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=h).json()
    conflict = next(c for c in fam["conflicts"] if c["id"] == body["conflicts"][0]["conflict_id"])
    assert {c["value"] for c in conflict["candidates"]} == {"01632 960010", "01632 960011"}


def test_a_refused_write_back_is_answered_and_never_quarantined(client, store, world):
    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    r = client.post(f"/api/agency/v1/families/{fid}/persons", headers=bearer(token),
                    json={"role": "child", "given_name": "Ada", "nhs_number": "999 000 0019"})  # bad check digit
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.nhs_number"
    with store.read() as db:
        assert db["sync_quarantine"].count == 0 and db["sync_ops"].count == 0
        assert db.execute("SELECT COUNT(*) FROM persons WHERE family_id = ?", [fid]).fetchone()[0] == 1


def test_core_and_practitioner_editing_one_family_merge_fields_and_conflict_on_the_same_field(client, store, world):
    """The core system updates the family's address and the mother's language while the
    practitioner, offline, edits the same mother: the phone's later push of a different
    field merges; its push of the same field becomes a conflict that both sides can see,
    with both values kept. (The phone's ops go through the same merge function as the sync
    push endpoint.)"""
    from server.ids import new_id

    _, token = make_client(store, world.agencies["A"])
    fid = world.families["own"]
    mother = new_id()
    with store.write() as db:
        records.insert(db, store.keyring, "person", {"id": mother, "agency_id": world.agencies["A"], "family_id": fid,
                                                     "role": "mother", "given_name": "Maja", "language": "English"})
    with store.read() as db:  # what the phone pulled before going offline
        seen = records.get(db, store.keyring, "person", mother)
    base = {f: int(m["v"]) for f, m in seen["field_meta"].items()}
    fam = client.get(f"/api/agency/v1/families/{fid}", headers=bearer(token)).json()
    r = client.patch(f"/api/agency/v1/families/{fid}", headers={**bearer(token), "If-Match": f'"{fam["version"]}"'},
                     json={"address": "10 Core Street"})
    assert r.status_code == 200
    r = client.patch(f"/api/agency/v1/families/{fid}/persons/{mother}",
                     headers={**bearer(token), "If-Match": f'"{seen["version"]}"'}, json={"language": "Polish"})
    assert r.status_code == 200 and r.json()["language"] == "Polish"

    phone = Actor(user_id=world.users["prac_a1"], device_id=new_id(), hlc="000000000000500-00000-dev")
    with store.write() as db:
        results = apply_ops(db, store.keyring, phone, [
            SetOp(op_id=new_id(), client_seq=1, hlc=phone.hlc, entity="person", entity_id=mother, family_id=fid,
                  field="interpreter_needed", value=True,
                  base_version=base.get("interpreter_needed", 0)),
            SetOp(op_id=new_id(), client_seq=2, hlc=phone.hlc, entity="person", entity_id=mother, family_id=fid,
                  field="language", value="Ukrainian", base_version=base["language"])])
    assert [x.status for x in results] == ["applied", "conflict"]

    fam = client.get(f"/api/agency/v1/families/{fid}", headers=bearer(token)).json()
    assert fam["address"] == "10 Core Street"
    person = next(p for p in fam["persons"] if p["id"] == mother)
    assert person["interpreter_needed"] is True
    conflict = next(c for c in fam["conflicts"] if c["entity_id"] == mother)
    assert conflict["field"] == "language"
    assert {c["value"] for c in conflict["candidates"]} == {"Polish", "Ukrainian"}
    assert person["language"] in ("Polish", "Ukrainian")  # provisional until a person decides
    items = [i for p in feed_all(client, token) for i in p["items"]]
    assert any(i["type"] == "conflict" and i["id"] == conflict["id"] for i in items)
    with store.read() as db:  # what the practitioner's pull reads: the same open conflict
        visible = records.find(db, store.keyring, "conflict", "family_id = ? AND status = 'open'", [fid])
    assert [c["id"] for c in visible] == [conflict["id"]]

    # The core system, now stale on the same field, is told so (409) rather than overwriting.
    r = client.patch(f"/api/agency/v1/families/{fid}/persons/{mother}",
                     headers={**bearer(token), "If-Match": f'"{seen["version"] + 1}"'}, json={"language": "French"})
    assert r.status_code == 409 and r.json()["conflicting_fields"] == ["language"]
