// Hearthside rule engine (browser). Twin of server/content/rules.py: same input, same
// output, same order. Both are held to content/golden/rules/*.yaml.
//
//   evaluate(content, facts) -> {follow_ups: [...], flags: [...]}
//
// `content` is the JSON served at GET /api/v1/content; `facts` is described in
// docs/content.md. Plain ES module, no dependencies, no build step.

const DAY_MS = 86400000;

function dayNumber(iso) {
  // "YYYY-MM-DD" -> whole days since the epoch, in UTC so that time zones never shift it.
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

function isoFromDay(n) {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function answered(a) {
  const v = a.value;
  return v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);
}

const keyOf = (checklist, subject, item) => JSON.stringify([checklist, subject ?? null, item]);

function indexAnswers(visit) {
  // The last record for a key wins; a blank record clears the key.
  const idx = new Map();
  for (const a of visit.answers || []) {
    const k = keyOf(a.checklist, a.subject, a.item);
    if (answered(a)) idx.set(k, a);
    else idx.delete(k);
  }
  return idx;
}

const isGrade = (v) => Number.isInteger(v);

const fired = (a) => ({ checklist: a.checklist, subject: a.subject ?? null, item: a.item, value: a.value });

// Not independently mobile: by the stage confirmed at this visit, else the person's
// recorded stage, else the older yes/no; nothing recorded counts for a baby under 1.
// `stages` comes from the content (settings.yaml non_mobile_stages); content without it
// falls back to the age-based rule rather than a copy of the list.
export function isNonMobile(subject, stages = null, confirmed = null) {
  const stage = confirmed || subject.mobility || null;
  if (stage && stages) return stages.includes(stage);
  if (subject.mobile === null || subject.mobile === undefined) return subject.age_band === "under-1";
  return subject.mobile === false;
}

function itemKind(checklist, item) {
  return item.subject || checklist.applies_to.subject;
}

class Engine {
  constructor(content, facts) {
    this.content = content;
    this.params = content.params || {};
    this.visit = facts.visit;
    this.visitDay = dayNumber(this.visit.date);
    const ordered = (facts.history || [])
      .map((h, i) => ({ h, i, d: dayNumber(h.date) }))
      .filter((t) => t.d <= this.visitDay);
    // Most recent first; a later position in the list breaks date ties.
    ordered.sort((a, b) => (b.d - a.d) || (b.i - a.i));
    this.history = ordered.map((t) => t.h);
    this.indexes = new Map();
    this.items = new Map();
    this.checklists = new Map();
    for (const c of content.checklists) {
      this.checklists.set(c.id, c);
      for (const it of c.items) this.items.set(c.id + "\u0000" + it.id, [c, it]);
    }
    const subjects = facts.subjects || [];
    this.children = subjects.filter((x) => x.kind === "child");
    this.stages = content.non_mobile_stages || null;
    this.confirmsMobility = [];
    for (const c of content.checklists) {
      for (const it of c.items) if (it.confirms === "mobility") this.confirmsMobility.push([c.id, it.id]);
    }
    this.carers = subjects.filter((x) => x.kind === "carer");
  }

  param(v) {
    return typeof v === "string" ? this.params[v] : v;
  }

  answers(visit) {
    if (!this.indexes.has(visit)) this.indexes.set(visit, indexAnswers(visit));
    return this.indexes.get(visit);
  }

  nonMobileAt(child, visit) {
    const idx = this.answers(visit);
    for (const [cid, iid] of this.confirmsMobility) {
      const a = idx.get(keyOf(cid, child.id, iid));
      if (a && typeof a.value === "string") return isNonMobile(child, this.stages, a.value);
    }
    return isNonMobile(child, this.stages);
  }

  // Which checklists apply follows the person's record; the rules read today's answer.
  childFits(c, item, child) {
    const bands = c.applies_to.age_bands;
    if (bands != null && !bands.includes(child.age_band)) {
      if (!(c.applies_to.or_non_mobile && isNonMobile(child, this.stages))) return false;
    }
    if (item && item.age_bands != null && !item.age_bands.includes(child.age_band)) return false;
    if (c.applies_to.non_mobile_only && !isNonMobile(child, this.stages)) return false;
    return true;
  }

  active(c) {
    if (c.applies_to.age_bands == null && !c.applies_to.non_mobile_only) return true;
    return this.children.some((ch) => this.childFits(c, null, ch));
  }

  subjectsFor(c, scope, item) {
    if (scope === "visit") return [null];
    if (scope === "child") return this.children.filter((ch) => this.childFits(c, item, ch));
    const roles = item && item.carer_roles != null ? item.carer_roles : c.applies_to.carer_roles;
    return this.carers.filter((ca) => roles == null || roles.includes(ca.role));
  }

  targets(cond, ctx) {
    const cid = cond.checklist || ctx.checklist.id;
    const iid = cond.item != null ? cond.item : ctx.item.id;
    let items;
    if (iid === "*") {
      const c = this.checklists.get(cid);
      items = c ? c.items.filter((i) => i.type === "grade") : [];
    } else {
      const found = this.items.get(cid + "\u0000" + iid);
      items = found ? [found[1]] : [];
    }
    return items.map((it) => {
      const [c] = this.items.get(cid + "\u0000" + it.id);
      const subject = itemKind(c, it) === "visit" ? null : ctx.subject ? ctx.subject.id : null;
      return keyOf(cid, subject, it.id);
    });
  }

  // The target answers graded at or above the condition's threshold, as evidence.
  gradedAtLeast(cond, ctx) {
    const threshold = this.param(cond.value);
    const idx = this.answers(ctx.visit);
    const ev = [];
    for (const k of this.targets(cond, ctx)) {
      const a = idx.get(k);
      if (a && isGrade(a.value) && a.value >= threshold) ev.push(fired(a));
    }
    return ev;
  }

  answer(cond, ctx) {
    const keys = this.targets(cond, ctx);
    return keys.length ? this.answers(ctx.visit).get(keys[0]) || null : null;
  }

  cond(cond, ctx) {
    switch (cond.op) {
      case "all": {
        const rs = cond.of.map((c) => this.cond(c, ctx));
        return rs.every((r) => r[0]) ? [true, rs.flatMap((r) => r[1])] : [false, []];
      }
      case "any": {
        const rs = cond.of.map((c) => this.cond(c, ctx));
        return rs.some((r) => r[0]) ? [true, rs.filter((r) => r[0]).flatMap((r) => r[1])] : [false, []];
      }
      case "not":
        return [!this.cond(cond.of, ctx)[0], []];
      case "equals": {
        const a = this.answer(cond, ctx);
        if (!a) return [false, []];
        const ok = Array.isArray(a.value) ? a.value.includes(cond.value) : a.value === cond.value;
        return ok ? [true, [fired(a)]] : [false, []];
      }
      case "in": {
        const a = this.answer(cond, ctx);
        if (!a) return [false, []];
        const ok = Array.isArray(a.value)
          ? a.value.some((v) => cond.values.includes(v))
          : cond.values.includes(a.value);
        return ok ? [true, [fired(a)]] : [false, []];
      }
      case "answered": {
        const a = this.answer(cond, ctx);
        return a ? [true, [fired(a)]] : [false, []];
      }
      case "evidence": {
        const a = this.answer(cond, ctx);
        return a && a.evidence === cond.value ? [true, [fired(a)]] : [false, []];
      }
      case "grade_at_least": {
        const ev = this.gradedAtLeast(cond, ctx);
        return [ev.length > 0, ev];
      }
      case "count_grades": {
        const ev = this.gradedAtLeast(cond, ctx);
        return ev.length >= this.param(cond.at_least) ? [true, ev] : [false, []];
      }
      case "grade_worsened": {
        const floor = cond.to_at_least != null ? this.param(cond.to_at_least) : null;
        const idx = this.answers(ctx.visit);
        const ev = [];
        for (const k of this.targets(cond, ctx)) {
          const a = idx.get(k);
          if (!a || !isGrade(a.value)) continue;
          for (const h of this.history) {
            const prev = this.answers(h).get(k);
            if (prev && isGrade(prev.value)) {
              if (a.value > prev.value && (floor === null || a.value >= floor)) ev.push(fired(a));
              break;
            }
          }
        }
        return [ev.length > 0, ev];
      }
      case "subject": {
        const s = ctx.subject;
        if (!s) return [false, []];
        if (cond.protection_plan != null && Boolean(s.protection_plan) !== cond.protection_plan) return [false, []];
        if (cond.non_mobile != null && (s.kind !== "child" || this.nonMobileAt(s, ctx.visit) !== cond.non_mobile)) return [false, []];
        if (cond.age_bands != null && !cond.age_bands.includes(s.age_band)) return [false, []];
        if (cond.roles != null && !cond.roles.includes(s.role)) return [false, []];
        return [true, []];
      }
      case "visit": {
        const v = ctx.visit;
        if (cond.no_access != null && Boolean(v.no_access) !== cond.no_access) return [false, []];
        if (cond.types != null && !cond.types.includes(v.type ?? "")) return [false, []];
        return [true, []];
      }
      case "count_visits": {
        const window = this.param(cond.within_days);
        const need = this.param(cond.at_least);
        let count = 0;
        for (const v of [this.visit, ...this.history]) {
          const age = this.visitDay - dayNumber(v.date);
          if (age >= 0 && age < window) {
            if (this.cond(cond.where, { ...ctx, visit: v })[0]) count += 1;
          }
        }
        return [count >= need, []];
      }
      case "not_seen_in_last": {
        const n = this.param(cond.visits);
        const visits = (this.visit.no_access ? [] : [this.visit]).concat(this.history.filter((h) => !h.no_access));
        if (!ctx.subject || visits.length < n) return [false, []];
        const id = ctx.subject.id;
        return [visits.slice(0, n).every((v) => !(v.seen || []).includes(id)), []];
      }
      default:
        throw new Error(`unknown condition op ${cond.op}`);
    }
  }

  run() {
    const out = { follow_ups: [], flags: [] };
    for (const c of this.content.checklists) {
      if (!this.active(c)) continue;
      for (const item of c.items) {
        for (const r of item.rules || []) this.fire(out, c, item, r, r.per || itemKind(c, item));
      }
      for (const r of c.rules || []) this.fire(out, c, null, r, r.per || c.applies_to.subject);
    }
    return out;
  }

  fire(out, c, item, r, scope) {
    for (const sub of this.subjectsFor(c, scope, item)) {
      const [ok, ev] = this.cond(r.when, { visit: this.visit, subject: sub, checklist: c, item });
      if (!ok) continue;
      const seen = new Set();
      const answers = [];
      for (const a of ev) {
        const k = keyOf(a.checklist, a.subject, a.item);
        if (!seen.has(k)) {
          seen.add(k);
          answers.push(a);
        }
      }
      const sid = sub ? sub.id : null;
      for (const act of r.then) {
        if (act.action === "follow_up") {
          const days = this.param(act.due_in_days);
          out.follow_ups.push({
            rule: r.id, checklist: c.id, subject: sid, assignee: act.assignee,
            due_in_days: days, due: isoFromDay(this.visitDay + days), text: act.text,
          });
        } else {
          out.flags.push({
            rule: r.id, checklist: c.id, subject: sid, severity: act.severity,
            reason: act.reason, answers: answers.map((a) => ({ ...a })),
          });
        }
      }
    }
  }
}

export function evaluate(content, facts) {
  return new Engine(content, facts).run();
}

export function withParams(content, overrides) {
  if (!overrides || Object.keys(overrides).length === 0) return content;
  return { ...content, params: { ...content.params, ...overrides } };
}

// The part of an outcome golden cases pin down (the wording lives in the rules).
export function project(outcome) {
  return {
    follow_ups: outcome.follow_ups.map((f) => ({
      rule: f.rule, subject: f.subject, assignee: f.assignee, due_in_days: f.due_in_days,
    })),
    flags: outcome.flags.map((f) => ({
      rule: f.rule, subject: f.subject, severity: f.severity, answers: f.answers,
    })),
  };
}
