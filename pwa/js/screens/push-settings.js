// "Notifications on this phone": one panel for supervisors (urgent flags) and practitioners
// (follow-up reminders). The text never changes what is sent: pushes carry no personal data.
import { h, button, statusLine } from "./common.js";
import * as push from "../push-client.js";

/** Fill ``slot`` with the on / off control; ``what`` names what the notifications are for. */
export async function showPushSettings(slot, what) {
  if (!push.supported()) {
    slot.replaceChildren(h("p", { class: "hs-hint" }, `This browser cannot show notifications: open Hearthside to see ${what}.`));
    return;
  }
  const st = await push.state().catch(() => ({ subscribed: false, permission: push.permission() }));
  const msg = statusLine();
  const act = st.subscribed
    ? button("Turn off notifications on this phone", async () => { const r = await push.disable(); msg.textContent = r.message; showPushSettings(slot, what); },
      { secondary: true, "data-testid": "push-disable" })
    : button(`Turn on notifications for ${what}`, async () => { const r = await push.enable(); msg.textContent = r.message; if (r.ok) showPushSettings(slot, what); },
      { secondary: true, "data-testid": "push-enable" });
  slot.replaceChildren(h("h2", { class: "hs-h2" }, "Notifications"),
    h("p", { class: "hs-hint" }, "Notifications never say which family they are about; you see that here after unlocking."), act, msg);
}
