"""The agency's rule for the phone's unlock secret: set by its admin through the API,
read by its staff's phones, validated, audited, and never crossing agencies."""

from __future__ import annotations

import re

import pytest

from server.unlock_policy.schemas import PassphraseChars, PinDigits, UnlockPolicyRead
from tests.conftest import REPO
from tests.factories import auth, login

from .conftest import dump_tables

URL = "/api/v1/unlock-policy"


def test_an_agency_that_never_chose_gets_the_rule_phones_had_before(client, world):
    r = client.get(URL, headers=auth(login(client, "prac_a1")))
    assert r.status_code == 200
    assert r.json() == {"allow_pin": True, "min_pin_digits": 6, "min_passphrase_chars": 10}


def test_an_admin_requires_a_passphrase_and_their_staff_see_it_but_not_another_agency(client, world, store):
    admin = auth(login(client, "admin_a"))
    r = client.patch(URL, json={"allow_pin": False, "min_passphrase_chars": 16}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"allow_pin": False, "min_pin_digits": 6, "min_passphrase_chars": 16}
    assert client.get(URL, headers=auth(login(client, "prac_a2"))).json()["min_passphrase_chars"] == 16
    assert client.get(URL, headers=auth(login(client, "prac_b1"))).json() == {
        "allow_pin": True, "min_pin_digits": 6, "min_passphrase_chars": 10}
    # A later change keeps what it does not name.
    r = client.patch(URL, json={"allow_pin": True, "min_pin_digits": 10}, headers=admin)
    assert r.json() == {"allow_pin": True, "min_pin_digits": 10, "min_passphrase_chars": 16}
    with store.read() as db:
        rows = list(db.query("SELECT user_id, entity_id, detail FROM audit_events WHERE action = 'unlock-policy-changed'"))
    assert [r["user_id"] for r in rows] == [world.users["admin_a"]] * 2
    assert rows[0]["entity_id"] == world.agencies["A"] and '"min_passphrase_chars": 16' in rows[0]["detail"]


@pytest.mark.parametrize("who", ["prac_a1", "sup_a1"])
def test_only_an_admin_changes_the_unlock_policy(client, world, store, who):
    before = dump_tables(store.path)
    r = client.patch(URL, json={"min_pin_digits": 12}, headers=auth(login(client, who)))
    assert r.status_code == 403
    assert client.get(URL, headers=auth(login(client, who))).json()["min_pin_digits"] == 6
    after = dump_tables(store.path)
    assert before["agencies"] == after["agencies"]


@pytest.mark.parametrize("body, field", [
    ({"min_pin_digits": 5}, "min_pin_digits"),
    ({"min_pin_digits": 21}, "min_pin_digits"),
    ({"min_passphrase_chars": 9}, "min_passphrase_chars"),
    ({"min_passphrase_chars": "many"}, "min_passphrase_chars"),
    ({"allow_pin": "no"}, "allow_pin"),
])
def test_a_bad_unlock_policy_is_refused_naming_the_field_and_changes_nothing(client, world, store, body, field):
    admin = auth(login(client, "admin_a"))
    before = dump_tables(store.path)["agencies"]
    r = client.patch(URL, json=body, headers=admin)
    assert r.status_code in (400, 422), r.text
    problem = r.json()
    assert any(field in e["field"] for e in problem.get("errors", [])) or field in problem.get("detail", "")
    assert dump_tables(store.path)["agencies"] == before
    assert client.get(URL, headers=admin).json() == {"allow_pin": True, "min_pin_digits": 6, "min_passphrase_chars": 10}


def test_an_unknown_member_in_the_unlock_policy_is_refused(client, world):
    admin = auth(login(client, "admin_a"))
    assert client.patch(URL, json={"kind": "pin"}, headers=admin).status_code in (400, 422)
    assert client.get(URL, headers=admin).json()["min_pin_digits"] == 6


def test_the_unlock_policy_needs_a_signed_in_caller(client, world):
    assert client.get(URL).status_code == 401
    assert client.patch(URL, json={"min_pin_digits": 8}).status_code == 401


def _section(title: str) -> str:
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start:end if end > 0 else None].split())  # wrapped lines read as one


def _js_const(name: str) -> int:
    src = (REPO / "pwa" / "js" / "crypto.js").read_text(encoding="utf-8")
    return int(re.search(rf"export const {name} = (\d+);", src).group(1))


def test_the_security_doc_states_the_iterations_and_limits_the_code_uses():
    doc = _section("Unlocking the phone")
    written, floor = _js_const("PBKDF2_ITERATIONS"), _js_const("PBKDF2_MIN_ITERATIONS")
    assert f"The phone writes {written:,} PBKDF2-SHA256 iterations" in doc
    assert f"Records carrying at least {floor:,} still unlock" in doc
    assert f"at {written:,} iterations. One CPU core" in doc
    # Every iteration count the section names is one the code uses.
    assert {int(n.replace(",", "")) for n in re.findall(r"\b(\d{1,3}(?:,\d{3})+) (?:PBKDF2-SHA256 )?iterations", doc)} \
        <= {written, floor}
    default = UnlockPolicyRead()
    for field, meta in (("min_pin_digits", PinDigits), ("min_passphrase_chars", PassphraseChars)):
        bounds = meta.__metadata__[0]
        assert f"`{field}` ({bounds.ge}–{bounds.le}, default {getattr(default, field)})" in doc
