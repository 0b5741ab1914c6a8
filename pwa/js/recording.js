// Recording-quality check (browser). Twin of server/content/recording.py: it warns, it
// never blocks saving. `rules` is content.recording from GET /api/v1/content.
//
//   checkRecording(text, context, rules) -> [{code, match, message, source}, ...]

export function words(text) {
  return String(text).toLowerCase().replace(/[\u2018\u2019]/g, "'").match(/[a-z0-9']+|&/g) || [];
}

function contains(haystack, phrase) {
  const needle = words(phrase);
  const n = needle.length;
  if (n === 0) return false;
  for (let i = 0; i + n <= haystack.length; i++) {
    let ok = true;
    for (let j = 0; j < n; j++) {
      if (haystack[i + j] !== needle[j]) { ok = false; break; }
    }
    if (ok) return true;
  }
  return false;
}

function firstMatch(haystack, patterns) {
  for (const p of patterns) if (contains(haystack, p)) return p;
  return null;
}

export function checkRecording(text, context, rules) {
  const ctx = context || {};
  const kind = ctx.kind ?? null;
  const toks = words(text);
  const out = [];
  for (const ph of rules.phrases || []) {
    if (ph.when === "child-not-seen" && ctx.child_seen === true) continue;
    if (ph.when === "child-not-spoken-to-alone" && ctx.child_spoken_to_alone === true) continue;
    const m = firstMatch(toks, ph.patterns);
    if (m !== null) out.push({ code: ph.id, match: m, message: ph.message, source: ph.source });
  }
  const j = rules.judgement;
  if (j && (kind === null || kind === "fact")) {
    const m = firstMatch(toks, j.markers);
    if (m !== null) {
      if (kind === "fact") {
        out.push({ code: "judgement-in-fact", match: m, message: j.message, source: j.source });
      } else if (rules.untyped_message) {
        out.push({ code: "fact-or-judgement-unstated", match: m, message: rules.untyped_message, source: j.source });
      }
    }
  }
  const r = rules.reported_speech;
  if (r && kind === "child-words") {
    const m = firstMatch(toks, r.markers);
    if (m !== null) out.push({ code: "child-words-not-verbatim", match: m, message: r.message, source: r.source });
  }
  return out;
}
