"""Every family endpoint × every role × own / other practitioner's / other team's / other
agency's family. Out of reach is 404 (or 403 for a role that may see but not act), and a
refusal never carries a name."""

from __future__ import annotations

import pytest

from tests.factories import auth, build_world, login

ROLES = {"practitioner": "prac_a1", "supervisor": "sup_a1", "admin": "admin_a"}
TARGETS = ("own", "other_prac", "other_team", "other_agency")
VISIBLE = {
    "practitioner": {"own"},
    "supervisor": {"own", "other_prac"},
    "admin": {"own", "other_prac", "other_team"},
}
MANAGERS = {"supervisor", "admin"}


# Every family and allocation of the world is at version 1: a change names it (If-Match).
AT_1 = {"If-Match": '"1"'}


def _requests(world, target):
    fid = world.families[target]
    prac = world.users["prac_a1b"]
    return {
        "read family": ("GET", f"/api/v1/families/{fid}", None, False, {}),
        "update family": ("PATCH", f"/api/v1/families/{fid}", {"notes": "changed"}, True, AT_1),
        "add person": ("POST", f"/api/v1/families/{fid}/persons", {"role": "father", "given_name": "Newperson"}, True,
                       {}),
        "allocate": ("POST", f"/api/v1/families/{fid}/allocations", {"practitioner_id": prac}, True, {}),
        "end allocation": ("POST", f"/api/v1/families/{fid}/allocations/{world.users['prac_a1']}/end", None, True,
                           AT_1),
    }


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "action", ["read family", "update family", "add person", "allocate", "end allocation"]
)
def test_family_endpoints_answer_by_role_and_reach(client, world, role, target, action):
    session = login(client, ROLES[role])
    method, url, body, manages, precondition = _requests(world, target)[action]
    r = client.request(method, url, json=body, headers={**auth(session), **precondition})
    visible = target in VISIBLE[role]
    if not visible:
        assert r.status_code == 404, r.text
    elif manages and role not in MANAGERS:
        assert r.status_code == 403, r.text
    elif action == "end allocation" and target != "own":
        # only the own family has prac_a1 allocated: ending a non-existent allocation is 404
        assert r.status_code == 404, r.text
    else:
        assert r.status_code in (200, 201), r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "Sentinel" not in r.text and "Child" not in r.text


@pytest.mark.parametrize("role", ROLES)
def test_family_list_holds_exactly_the_families_in_reach(client, world, role):
    session = login(client, ROLES[role])
    r = client.get("/api/v1/families", headers=auth(session))
    assert r.status_code == 200
    names = {f["family_name"] for f in r.json()}
    assert names == {f"Sentinel{t}" for t in VISIBLE[role]}


def test_users_are_listed_only_within_reach(client, world):
    as_prac = {u["username"] for u in client.get("/api/v1/users", headers=auth(login(client, "prac_a1"))).json()}
    as_sup = {u["username"] for u in client.get("/api/v1/users", headers=auth(login(client, "sup_a1"))).json()}
    as_admin = {u["username"] for u in client.get("/api/v1/users", headers=auth(login(client, "admin_a"))).json()}
    assert as_prac == {"prac_a1"}
    assert as_sup == {"prac_a1", "prac_a1b", "sup_a1"}
    assert as_admin == {"prac_a1", "prac_a1b", "prac_a2", "sup_a1", "sup_a2", "admin_a"}


@pytest.mark.parametrize("username", ["prac_a1", "sup_a1"])
def test_only_admins_change_accounts(client, world, username):
    r = client.patch(f"/api/v1/users/{world.users['prac_a1b']}", json={"disabled": True},
                     headers=auth(login(client, username)))
    assert r.status_code == 403


def test_admin_cannot_reach_another_agencys_users_or_devices(client, world):
    b_session = login(client, "prac_b1")
    admin = auth(login(client, "admin_a"))
    assert client.patch(f"/api/v1/users/{world.users['prac_b1']}", json={"disabled": True},
                        headers=admin).status_code == 404
    r = client.post(f"/api/v1/devices/{b_session['device']['id']}/revoke", headers=admin)
    assert r.status_code == 404
    assert client.get("/api/v1/me", headers=auth(b_session)).status_code == 200


def test_practitioner_cannot_revoke_a_colleagues_device(client, world):
    other = login(client, "prac_a1b")
    r = client.post(f"/api/v1/devices/{other['device']['id']}/revoke", headers=auth(login(client, "prac_a1")))
    assert r.status_code == 403
    assert client.get("/api/v1/me", headers=auth(other)).status_code == 200


def test_supervisor_can_only_add_families_to_their_own_team(client, world):
    session = login(client, "sup_a1")
    r = client.post("/api/v1/families", json={"family_name": "Newfamily", "team_id": world.teams["A2"]},
                    headers=auth(session))
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "body.team_id"
    r = client.post("/api/v1/families", json={"family_name": "Newfamily"}, headers=auth(session))
    assert r.status_code == 201 and r.json()["team_id"] == world.teams["A1"]


def test_practitioner_cannot_create_families(client, world):
    r = client.post("/api/v1/families", json={"family_name": "Newfamily"}, headers=auth(login(client, "prac_a1")))
    assert r.status_code == 403


def test_ending_an_allocation_removes_the_family_from_the_practitioners_reach(client, world):
    prac = auth(login(client, "prac_a1"))
    fid = world.families["own"]
    assert client.get(f"/api/v1/families/{fid}", headers=prac).status_code == 200
    r = client.post(f"/api/v1/families/{fid}/allocations/{world.users['prac_a1']}/end",
                    headers={**auth(login(client, "sup_a1")), **AT_1})
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"/api/v1/families/{fid}", headers=prac).status_code == 404
