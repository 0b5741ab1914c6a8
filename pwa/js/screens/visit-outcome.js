// What a visit will raise (js/rules.js) and the recording-quality warnings (js/recording.js),
// both from the content branch. Loaded lazily: a phone without them still records visits,
// and says plainly that the preview is unavailable rather than showing "nothing raised".
import { h, tag, warningCallout, fmtDay, personName, emptyState, severityLabel, severityColour } from "./common.js";

let rulesMod = null;
let recordingMod = null;

export async function loadEngines() {
  if (!rulesMod) rulesMod = await import("../rules.js").catch(() => null);
  if (!recordingMod) recordingMod = await import("../recording.js").catch(() => null);
  return { rules: rulesMod, recording: recordingMod };
}

export async function evaluateVisit(content, facts) {
  const { rules } = await loadEngines();
  const fn = rules && (rules.evaluate || (rules.default && rules.default.evaluate));
  if (!fn || !content) return null;
  try {
    return await fn(content, facts);
  } catch (err) {
    console.error("rule engine failed", err && err.message);
    return null;
  }
}

// context: {child_seen, child_spoken_to_alone, kind} as in content's RecordingContext.
export async function recordingWarnings(content, text, context) {
  if (!text || !content) return [];
  const { recording } = await loadEngines();
  if (!recording) return [];
  // checkRecording(text, context, rules) -> [{code, match, message, source}]
  const fn = recording.checkRecording || (recording.default && recording.default.checkRecording);
  if (typeof fn !== "function" || !content.recording) return [];
  try {
    const out = await fn(text, context, content.recording);
    return Array.isArray(out) ? out : [];
  } catch (err) {
    console.error("recording check failed", err && err.message);
    return [];
  }
}


// `flagBlocks` (a signed visit's flags as the server holds them, with any decision) stand in
// for the preview's callouts; a follow-up's `assigneeName` names who it is for.
export function outcomeView(outcome, byId, { heading = "What this visit will raise", flagBlocks = null } = {}) {
  const wrap = h("section", { "aria-labelledby": "outcome-h", "data-testid": "visit-outcome" },
    h("h2", { id: "outcome-h", class: "hs-h2" }, heading));
  if (!outcome) {
    wrap.append(h("p", { class: "hs-body", "data-testid": "outcome-unavailable" },
      "The follow-ups and flags cannot be worked out on this phone at the moment. The server will work them out when the visit syncs."));
    return wrap;
  }
  const who = (id) => (id ? personName(byId.get(id)) : "The family");
  const flags = outcome.flags || [];
  const followUps = outcome.follow_ups || [];
  wrap.append(h("h3", { class: "hs-h3" }, `Flags to your supervisor (${flags.length})`));
  if (flagBlocks && flagBlocks.length) {
    wrap.append(...flagBlocks);
  } else if (flags.length) {
    for (const f of flags) {
      const [sev, colour] = [severityLabel(f.severity), severityColour(f.severity)];
      wrap.append(warningCallout(`${sev}: ${f.reason}`,
        h("p", { class: "hs-body" }, tag(sev, colour), " ", `About: ${who(f.subject)}`),
        { "data-testid": "outcome-flag", "data-rule": f.rule, "data-severity": f.severity }));
    }
  } else {
    wrap.append(emptyState("No flags."));
  }
  wrap.append(h("h3", { class: "hs-h3" }, `Follow-ups (${followUps.length})`));
  if (followUps.length) {
    wrap.append(h("ul", { class: "hs-list hs-list--bordered" }, followUps.map((f) =>
      h("li", { "data-testid": "outcome-followup", "data-rule": f.rule },
        h("p", { class: "hs-body" }, f.text),
        h("p", { class: "hs-hint" }, `${who(f.subject)} · ${f.assigneeName || (f.assignee === "supervisor" ? "Supervisor" : "You")} · due ${f.due_in_days === 0 ? "today" : fmtDay(f.due)}`)))));
  } else {
    wrap.append(emptyState("No follow-ups."));
  }
  return wrap;
}

export function warningsView(items) {
  // items: [{where, warning: {code, match, message, source}}]
  const wrap = h("section", { "aria-labelledby": "rq-h", "data-testid": "recording-warnings" },
    h("h2", { id: "rq-h", class: "hs-h2" }, "Recording quality"));
  if (!items.length) {
    wrap.append(emptyState("No recording-quality warnings."));
    return wrap;
  }
  wrap.append(h("p", { class: "hs-body" }, "These are prompts, not errors: you can still sign. Change the wording if it helps the record."));
  wrap.append(h("ul", { class: "hs-list hs-list--bordered" }, items.map(({ where, warning, href }) =>
    h("li", { "data-testid": "recording-warning", "data-code": warning.code },
      h("p", { class: "hs-body" }, h("strong", {}, where), warning.match ? ` – “${warning.match}”` : ""),
      h("p", { class: "hs-body" }, warning.message),
      warning.source ? h("p", { class: "hs-hint" }, `Source: ${warning.source}`) : null,
      href ? h("a", { href, class: "hs-body" }, "Change the wording") : null))));
  return wrap;
}
