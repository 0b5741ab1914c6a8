"""Sign-in hashes the password outside the database's write lock: while several slow
sign-ins (right passwords, and unknown users checked against the dummy hash) are hashing,
ordinary writes go through. Real server process, real parallel requests; the assertion is
on the order things finish in, never on how long they took."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from server.auth.passwords import DEMO_PASSWORD
from tests.conftest import LiveServer


@pytest.fixture
def slow_hash_server(tmp_path):
    # scrypt at 2**17 (128 MiB): each sign-in hashes for a long while next to a small write.
    server = LiveServer(tmp_path / "data", env={"HEARTHSIDE_PASSWORD_HASH_LOG2_N": "17"}).start()
    yield server
    server.stop()


def test_ordinary_writes_finish_while_concurrent_sign_ins_are_still_hashing(slow_hash_server):
    url = slow_hash_server.url
    admin = slow_hash_server.login("admin1")
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    users = httpx.get(url + "/api/v1/users", headers=headers).json()
    target = next(u for u in users if u["username"] == "practitioner2")

    finished: list[str] = []
    lock = threading.Lock()
    sent = threading.Semaphore(0)
    sign_ins = [("practitioner1", DEMO_PASSWORD, 200), ("supervisor1", DEMO_PASSWORD, 200),
                ("nobody1", DEMO_PASSWORD, 401), ("nobody2", DEMO_PASSWORD, 401)]
    answers: dict[str, int] = {}

    def sign_in(username: str, password: str) -> None:
        with httpx.Client(timeout=120, event_hooks={"request": [lambda _: sent.release()]}) as c:
            r = c.post(url + "/api/v1/auth/login",
                       json={"username": username, "password": password, "device_id": str(uuid.uuid4())})
        with lock:
            answers[username] = r.status_code
            finished.append("sign-in")

    threads = [threading.Thread(target=sign_in, args=(u, p)) for u, p, _ in sign_ins]
    for t in threads:
        t.start()
    for _ in threads:
        sent.acquire()
    with httpx.Client(timeout=120, headers=headers) as c:
        for i in range(5):
            r = c.patch(f"{url}/api/v1/users/{target['id']}", json={"display_name": f"Alex P {i}"})
            assert r.status_code == 200, r.text
            with lock:
                finished.append("write")
    for t in threads:
        t.join()

    assert answers == {u: status for u, _, status in sign_ins}
    # Every write finished before the first sign-in did.
    assert finished == ["write"] * 5 + ["sign-in"] * 4, finished
