"""GET /api/v1/team: the names a phone shows for colleagues (who decided, who a follow-up is
for). A practitioner or supervisor gets their own team's staff and no one else's; an admin
their agency's; only id, display name and role, never a username or anything of a family."""

from __future__ import annotations

from tests.factories import auth, build_world, login


def names(client, username: str) -> dict[str, str]:
    r = client.get("/api/v1/team", headers=auth(login(client, username)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert all(set(row) == {"id", "display_name", "role"} for row in body)
    return {row["display_name"]: row["role"] for row in body}


def test_a_practitioner_gets_the_names_of_their_own_team_only(client, store):
    build_world(store)
    assert names(client, "prac_a1") == {"prac_a1": "practitioner", "prac_a1b": "practitioner", "sup_a1": "supervisor"}
    assert names(client, "sup_a2") == {"prac_a2": "practitioner", "sup_a2": "supervisor"}


def test_an_admin_gets_their_agencys_staff_and_no_other_agencys(client, store):
    build_world(store)
    got = names(client, "admin_a")
    assert {"prac_a1", "prac_a2", "sup_a1", "sup_a2", "admin_a"} <= set(got)
    assert not {"prac_b1", "sup_b1", "admin_b"} & set(got)


def test_the_team_needs_a_signed_in_caller(client, store):
    build_world(store)
    assert client.get("/api/v1/team").status_code == 401
