"""The account screens in real Chromium against a real server: a practitioner changes
their password (a guessable one is refused where it was typed), and after an admin resets
a password from the same screen, the next sign-in asks for a new one before anything
else opens."""

from __future__ import annotations

import httpx

from tests.conftest import launch_phone

from .conftest import PIN, enrol, go, sign_in_and_choose_pin, wait_until

NEW = "lantern orchard quietly 48"


def test_a_practitioner_changes_their_password_on_the_account_screen(screens_server, browser_context):
    page = browser_context.new_page()
    enrol(page, screens_server)
    go(page, "#/account")
    page.get_by_test_id("current-password").fill("demo-password")
    page.get_by_test_id("new-password").fill("password1234")
    page.get_by_test_id("confirm-password").fill("password1234")
    page.get_by_test_id("change-password").click()
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    assert "too easy to guess" in summary.inner_text()

    page.get_by_test_id("new-password").fill(NEW)
    page.get_by_test_id("confirm-password").fill(NEW)
    page.get_by_test_id("change-password").click()
    page.get_by_text("Your password has been changed.").wait_for()
    # The phone carries on; the old password no longer opens the account, the new one does.
    assert page.evaluate("() => document.documentElement.dataset.session") == "unlocked"
    old = httpx.post(screens_server.url + "/api/v1/auth/login",
                     json={"username": "practitioner1", "password": "demo-password"})
    assert old.status_code == 401
    assert screens_server.login("practitioner1", NEW)["user"]["username"] == "practitioner1"


def test_after_an_admin_reset_the_next_sign_in_asks_for_a_new_password(
    screens_server, browser_context, playwright_instance, tmp_path
):
    admin = browser_context.new_page()
    sign_in_and_choose_pin(admin, screens_server, "admin1")
    go(admin, "#/account")
    admin.get_by_test_id("reset-practitioner2").click()
    temporary = admin.get_by_test_id("temporary-password").inner_text().strip()
    assert len(temporary) >= 16

    phone = launch_phone(playwright_instance, tmp_path / "practitioner-profile")
    try:
        page = phone.new_page()
        page.goto(screens_server.url + "/?test#/today")
        page.get_by_test_id("username").fill("practitioner2")
        page.get_by_test_id("password").fill(temporary)
        page.get_by_test_id("sign-in").click()
        page.wait_for_function("() => document.documentElement.dataset.session === 'change-password'")
        assert page.locator("h1").inner_text() == "Choose a new password"

        page.get_by_test_id("new-password").fill("password1234")
        page.get_by_test_id("confirm-password").fill("password1234")
        page.get_by_test_id("save-new-password").click()
        page.get_by_test_id("field-error").filter(has_text="too easy to guess").wait_for()  # at the field, and in the summary
        assert page.evaluate("() => document.documentElement.dataset.session") == "change-password"

        page.get_by_test_id("new-password").fill(NEW)
        page.get_by_test_id("confirm-password").fill(NEW)
        page.get_by_test_id("save-new-password").click()
        page.get_by_test_id("new-pin").fill(PIN)
        page.get_by_test_id("confirm-pin").fill(PIN)
        page.get_by_test_id("set-pin").click()
        page.wait_for_function("() => document.documentElement.dataset.session === 'unlocked'", timeout=60_000)
        page.wait_for_function("() => !!window.__hearthside && !!window.__hearthside.sync.status().last_success_at",
                               timeout=60_000)
    finally:
        phone.close()
    session = screens_server.login("practitioner2", NEW)
    assert session["must_change_password"] is False
    assert httpx.post(screens_server.url + "/api/v1/auth/login",
                      json={"username": "practitioner2", "password": temporary}).status_code == 401


def test_the_first_sync_landing_leaves_a_one_time_password_on_screen(screens_server, browser_context):
    # The first sync after choosing a PIN redraws the screen it finds (drawn from an empty
    # store), but not one the person has already used: the password is reset either way.
    page = browser_context.new_page()
    held, holding = [], [True]
    page.route("**/api/v1/sync/pull*", lambda route: held.append(route) if holding[0] else route.continue_())
    sign_in_and_choose_pin(page, screens_server, "admin1")
    go(page, "#/account")
    for _ in range(300):  # the first pull is on its way, held here until the password is shown
        if held:
            break
        page.wait_for_timeout(100)
    assert held and not page.evaluate("() => window.__hearthside.sync.status().last_success_at")
    page.get_by_test_id("reset-practitioner2").click()
    temporary = page.get_by_test_id("temporary-password").inner_text().strip()

    holding[0] = False
    for route in held:
        route.continue_()
    wait_until(page, "() => !!window.__hearthside.sync.status().last_success_at")
    assert page.get_by_test_id("temporary-password").inner_text().strip() == temporary
