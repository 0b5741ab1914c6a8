"""Sign-in back-off against a real server process, with real parallel requests: thirty
guesses at once cannot skip the back-off, cannot lock the person out of their own phone,
and get the same answers whether or not the account exists."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from server.auth.passwords import DEMO_PASSWORD

WRONG = "certainly not the password"
FREE_FAILURES = 5  # ThrottlePolicy's default


def _parallel_logins(url: str, username: str, n: int = 30, password: str = WRONG) -> list[httpx.Response]:
    """``n`` sign-ins released together from ``n`` threads."""
    barrier = threading.Barrier(n)

    def one(_: int) -> httpx.Response:
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            return c.post(url + "/api/v1/auth/login", json={"username": username, "password": password})

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _shape(r: httpx.Response) -> tuple[int, dict]:
    body = r.json()
    body.pop("retry_after", None)
    return r.status_code, body


def test_thirty_parallel_wrong_passwords_get_no_more_tries_than_the_back_off_allows(live_server):
    answers = _parallel_logins(live_server.url, "practitioner1")
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * FREE_FAILURES + [429] * (30 - FREE_FAILURES)
    assert all(int(r.headers["retry-after"]) > 0 for r in answers if r.status_code == 429)


def test_a_guesser_cannot_lock_the_person_out_of_their_enrolled_phone(live_server):
    device_id = str(uuid.uuid4())
    first = live_server.login("practitioner1", DEMO_PASSWORD, device_id=device_id)
    _parallel_logins(live_server.url, "practitioner1")
    # From the guesser's side the account must wait; from the person's own phone it opens.
    r = httpx.post(live_server.url + "/api/v1/auth/login", json={"username": "practitioner1",
                                                                 "password": DEMO_PASSWORD})
    assert r.status_code == 429
    again = live_server.login("practitioner1", DEMO_PASSWORD, device_id=device_id)
    assert again["user"]["id"] == first["user"]["id"] and again["device"]["id"] == device_id
    # Mistyping on the phone has a back-off of its own, which the guesser did not use up.
    for _ in range(FREE_FAILURES):
        r = httpx.post(live_server.url + "/api/v1/auth/login",
                       json={"username": "practitioner1", "password": WRONG, "device_id": device_id})
        assert r.status_code == 401


def test_a_known_and_an_unknown_account_under_attack_get_the_same_answers(live_server):
    known = _parallel_logins(live_server.url, "practitioner2")
    unknown = _parallel_logins(live_server.url, "practitioner9")
    assert sorted(map(_shape, known), key=repr) == sorted(map(_shape, unknown), key=repr)
    # Afterwards the right password and any password for a missing account look alike.
    right = httpx.post(live_server.url + "/api/v1/auth/login", json={"username": "practitioner2",
                                                                     "password": DEMO_PASSWORD})
    missing = httpx.post(live_server.url + "/api/v1/auth/login", json={"username": "practitioner9",
                                                                       "password": DEMO_PASSWORD})
    assert _shape(right) == _shape(missing) and right.status_code == 429
    assert {k for k in right.headers if k != "date"} == {k for k in missing.headers if k != "date"}
