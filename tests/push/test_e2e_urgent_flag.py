"""End to end: a practitioner completes a visit offline in which a child was prevented from
being seen alone; on reconnect the supervisor's phone gets an urgent push within a minute,
opens the flag after unlocking, records a decision; the practitioner sees the decision
after their next sync."""

from __future__ import annotations

import json
import time

import pytest

from server.demo import _sid
from server.followups.from_visit import flag_id
from tests.conftest import LiveServer, launch_phone
from tests.pwa_screens.conftest import PIN, enrol, go, unlock, wait_until

from .cdp_push import deliver_until_shown
from .pushservice import PushService

pytestmark = pytest.mark.browser

VISIT = _sid("visit", "brennan", "next")
FAMILY = _sid("family", "brennan")
MUM, PARTNER, BABY = (_sid("person", "brennan", k) for k in ("mum", "partner", "baby"))
RULE = "prevented-from-seeing-child-alone"

# The browser cannot reach a real push service here: PushManager.subscribe answers with
# the test push service's endpoint and keys the test holds (so it can decrypt).
STUB = """(() => {
  const sub = %s;
  let current = null;
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (opts) {
    current = { endpoint: sub.endpoint, options: { applicationServerKey: opts.applicationServerKey },
                toJSON: () => sub, unsubscribe: async () => { current = null; return true; } };
    return current;
  };
})();"""


def _context(playwright_instance, tmp_path, name):
    return launch_phone(playwright_instance, tmp_path / f"profile-{name}")


def _until(page, fn, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        page.wait_for_timeout(250)  # lets Playwright deliver CDP events
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def push_service():
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def server(tmp_path):
    s = LiveServer(tmp_path / "data", env={"HEARTHSIDE_SCHEDULER_INTERVAL_SECONDS": "2"}).start()
    yield s
    s.stop()


def test_offline_prevented_visit_reaches_the_supervisor_by_push_and_the_decision_returns(
    server, push_service, playwright_instance, tmp_path
):
    prac_ctx = _context(playwright_instance, tmp_path, "practitioner")
    sup_ctx = _context(playwright_instance, tmp_path, "supervisor")
    try:
        # -- the supervisor's phone: enrolled, notifications on ----------------------------
        browser = push_service.browser("supervisor-phone")
        sup_ctx.add_init_script(STUB % json.dumps(browser.subscription()))
        sup_ctx.grant_permissions(["notifications"], origin=server.url)
        sup = sup_ctx.pages[0] if sup_ctx.pages else sup_ctx.new_page()
        enrol(sup, server, "supervisor1")
        sup.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        go(sup, "#/supervisor")
        sup.get_by_test_id("push-enable").click()  # the supervisor turns notifications on
        sup.get_by_test_id("push-disable").wait_for(timeout=30_000)

        # -- the practitioner records the visit with no connection ------------------------
        prac = prac_ctx.pages[0] if prac_ctx.pages else prac_ctx.new_page()
        enrol(prac, server, "practitioner1")
        prac.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        wait_until(prac, "async id => !!(await window.__hearthside.model.get('visit', id))", VISIT)
        prac_ctx.set_offline(True)
        prac.evaluate("""async ([visit, family, baby, present]) => {
            const { model } = window.__hearthside;
            const now = new Date().toISOString();
            // 'in-progress' then 'completed' on one field, answers in between, all unsent: the
            // signature must still reach the server after the answers, never before them.
            await model.update('visit', visit, { status: 'in-progress', started_at: now, present });
            const answers = [['child-seen', 'yes'], ['seen-alone', 'no'], ['spoken-to-alone', 'no'],
                             ['not-alone-reason', 'prevented']];
            for (const [item, answer] of answers) {
              const id = await model.responseId(visit, 'child-seen-alone', baby, item);
              await model.create('checklist_response', { family_id: family, visit_id: visit,
                checklist_id: 'child-seen-alone', checklist_version: 1, subject_id: baby, item_id: item,
                answer }, { id });
            }
            const me = model.me();
            await model.update('visit', visit, { status: 'completed', completed_at: now, signed_by: me.user_id });
        }""", [VISIT, FAMILY, BABY, [MUM, PARTNER, BABY]])
        assert push_service.received == []

        # -- reconnect: the sync raises the flag, the scheduler pushes it ------------------
        prac_ctx.set_offline(False)
        synced_at = time.monotonic()
        prac.evaluate("() => window.__hearthside.sync.now()")
        expected = flag_id(VISIT, RULE, BABY)
        received = _until(sup, lambda: push_service.to(browser), 60, "the urgent push")
        assert time.monotonic() - synced_at < 60
        payload = browser.decrypt(received[0].body)
        assert payload == {"type": "flag-urgent", "count": 1, "id": expected}
        assert received[0].headers["urgency"] == "high"

        # -- the supervisor's phone, locked, shows it; opening it lands on the flag ---------
        sup.evaluate("() => window.__hearthside.lock.lockNow('button')")
        sup.wait_for_function("() => document.documentElement.dataset.session === 'locked'")
        cdp = sup_ctx.new_cdp_session(sup)
        regs: dict[str, str] = {}
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: regs.update(
            {r["scopeURL"]: r["registrationId"] for r in e.get("registrations", []) if not r.get("isDeleted")}))
        cdp.send("ServiceWorker.enable")
        reg_id = _until(sup, lambda: regs.get(server.url + "/"), 30, "the registration")
        titles = deliver_until_shown(
            sup, cdp, server.url, reg_id, payload,
            "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map(n => n.title))")
        assert titles == ["Urgent flag"]
        worker = _until(sup, lambda: [w for w in sup_ctx.service_workers if w.url.startswith(server.url)])[0]
        worker.evaluate("async () => { const [n] = await self.registration.getNotifications();"
                        " await self.hearthsidePush.open(n); }")
        _until(sup, lambda: sup.url.endswith(f"#/flags/{expected}"), 30, "the flag's route")
        assert sup.locator('[data-testid="flag-detail"]').count() == 0  # nothing shown while locked
        unlock(sup, PIN)
        detail = sup.locator(f'[data-testid="flag-detail"][data-flag-id="{expected}"]')
        detail.wait_for(timeout=60_000)

        sup.get_by_test_id("decision").fill("Joint visit with the social worker within 48 hours")
        sup.get_by_test_id("rationale").fill("The partner answered for the mother and kept the baby with him")
        sup.get_by_test_id("close-flag").check()  # closing is a choice, never ticked for them
        sup.get_by_test_id("save-decision").click()
        sup.locator('[data-testid="flag-detail"][data-status="closed"]').wait_for(timeout=30_000)
        sup.evaluate("() => window.__hearthside.sync.now()")
        _until(sup, lambda: sup.evaluate("() => window.__hearthside.sync.status().pending === 0"), 60,
               "the decision to be sent")

        # -- the practitioner sees the decision after their next sync -----------------------
        def decision():
            prac.evaluate("() => window.__hearthside.sync.now()")
            flag = prac.evaluate("id => window.__hearthside.model.get('flag', id)", expected)
            return flag and flag.get("decision")

        assert _until(prac, decision, 60, "the decision on the practitioner's phone") == \
            "Joint visit with the social worker within 48 hours"
    finally:
        prac_ctx.close()
        sup_ctx.close()
