"""Account hygiene against a real server process: changing a password (with the current
one; other sessions end), refusing common and guessable passwords, an admin's reset that
forces a change at the next sign-in, and "sign me out of every device"."""

from __future__ import annotations

import httpx
import pytest

from server.auth.passwords import DEMO_PASSWORD
from tests.factories import auth, login

NEW = "lantern orchard quietly 48"


def _h(session: dict) -> dict:
    return {"Authorization": f"Bearer {session['access_token']}"}


def _change(url: str, session: dict, current: str, new: str) -> httpx.Response:
    return httpx.post(url + "/api/v1/me/password", json={"current_password": current, "new_password": new},
                      headers=_h(session))


def _fields(r: httpx.Response) -> set[str]:
    return {e["field"] for e in r.json().get("errors", [])}


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(live_server):
    url = live_server.url
    here = live_server.login("practitioner1")
    elsewhere = live_server.login("practitioner1")

    wrong = _change(url, here, "not my password at all", NEW)
    assert wrong.status_code == 422 and _fields(wrong) == {"body.current_password"}
    r = _change(url, here, DEMO_PASSWORD, NEW)
    assert r.status_code == 200, r.text
    assert r.json()["other_sessions_ended"] >= 2  # the other phone's access and refresh tokens

    assert httpx.get(url + "/api/v1/me", headers=_h(here)).status_code == 200
    assert httpx.get(url + "/api/v1/me", headers=_h(elsewhere)).status_code == 401
    assert httpx.post(url + "/api/v1/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}).status_code == 401
    old = httpx.post(url + "/api/v1/auth/login", json={"username": "practitioner1", "password": DEMO_PASSWORD})
    assert old.status_code == 401
    assert live_server.login("practitioner1", NEW)["user"]["username"] == "practitioner1"


@pytest.mark.parametrize("weak", ["password1234", "practitioner1234", "Hearthside2024!", "qwertyuiop123"])
def test_common_and_guessable_passwords_are_refused(client, world, weak):
    admin = auth(login(client, "admin_a"))
    r = client.post("/api/v1/users", headers=admin, json={
        "username": "newstarter", "display_name": "Sam Newstarter", "role": "practitioner", "password": weak})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"body.password"}
    assert weak not in r.text
    me = login(client, "prac_a1")
    r = client.post("/api/v1/me/password", headers=auth(me),
                    json={"current_password": "correct horse battery staple", "new_password": weak})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"body.new_password"}


def test_a_password_made_of_the_persons_own_name_is_refused(client, world):
    r = client.post("/api/v1/users", headers=auth(login(client, "admin_a")), json={
        "username": "newstarter", "display_name": "Samira Okonkwo", "role": "practitioner",
        "password": "Samira Okonkwo 1"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"body.password"}


def test_wrong_current_passwords_are_throttled_like_sign_ins(live_server):
    url = live_server.url
    session = live_server.login("practitioner2")
    answers = [_change(url, session, "a wrong guess here", NEW).status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]


def test_an_admin_reset_ends_every_session_and_forces_a_change_at_the_next_sign_in(live_server):
    url = live_server.url
    phone = live_server.login("practitioner1")
    admin = live_server.login("admin1")
    sup = live_server.login("supervisor1")
    uid = phone["user"]["id"]
    assert httpx.post(f"{url}/api/v1/users/{uid}/password-reset", headers=_h(sup)).status_code == 403

    r = httpx.post(f"{url}/api/v1/users/{uid}/password-reset", headers=_h(admin))
    assert r.status_code == 200, r.text
    temporary = r.json()["temporary_password"]
    assert httpx.get(url + "/api/v1/me", headers=_h(phone)).status_code == 401
    old = httpx.post(url + "/api/v1/auth/login", json={"username": "practitioner1", "password": DEMO_PASSWORD})
    assert old.status_code == 401

    reset = live_server.login("practitioner1", temporary)
    assert reset["must_change_password"] is True
    blocked = httpx.get(url + "/api/v1/families", headers=_h(reset))
    assert blocked.status_code == 403
    assert blocked.json()["type"] == "urn:hearthside:problem:password-change-required"
    assert httpx.get(url + "/api/v1/me", headers=_h(reset)).json()["must_change_password"] is True

    assert _change(url, reset, temporary, NEW).status_code == 200
    assert httpx.get(url + "/api/v1/families", headers=_h(reset)).status_code == 200
    assert live_server.login("practitioner1", NEW)["must_change_password"] is False


def test_an_admin_resets_only_in_their_own_agency(client, world):
    r = client.post(f"/api/v1/users/{world.users['prac_b1']}/password-reset", headers=auth(login(client, "admin_a")))
    assert r.status_code == 404


def test_signing_out_everywhere_ends_every_session_of_mine_and_no_one_elses(live_server):
    url = live_server.url
    phones = [live_server.login("practitioner1") for _ in range(3)]
    colleague = live_server.login("practitioner2")
    r = httpx.post(url + "/api/v1/me/sign-out-everywhere", headers=_h(phones[0]))
    assert r.status_code == 200 and r.json()["devices_signed_out"] == 3
    for phone in phones:
        assert httpx.get(url + "/api/v1/me", headers=_h(phone)).status_code == 401
        assert httpx.post(url + "/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
    assert httpx.get(url + "/api/v1/me", headers=_h(colleague)).status_code == 200
