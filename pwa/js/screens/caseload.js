// Caseload: every family on this phone, searchable by family name, postcode or any
// member's name. Rows are built once; typing only toggles `hidden`, so 60 families (or
// several hundred) filter without lag.
import { h, fill, screenTitle, tag, fmtDay, dayKey, todayKey, visitTypeLabel, emptyState } from "./common.js";
import { list } from "./data.js";
import { ageLabel, isChildRole } from "./visit-facts.js";

export async function render(root) {
  const [families, persons, visits, flags, followUps] = await Promise.all([
    list("family"), list("person"), list("visit"), list("flag"), list("follow_up")]);
  const today = todayKey();
  const names = new Map();
  const children = new Map();
  for (const p of persons) {
    const s = names.get(p.family_id) || [];
    s.push(`${p.given_name || ""} ${p.family_name || ""}`);
    names.set(p.family_id, s);
    if (isChildRole(p.role)) children.set(p.family_id, [...(children.get(p.family_id) || []), p]);
  }
  // Who the visits are for, at a glance: each child's first name and age ("expected" before
  // birth), and whether a child is on a protection plan.
  const childLine = (familyId) => (children.get(familyId) || [])
    .sort((a, b) => (b.date_of_birth || b.expected_date || "").localeCompare(a.date_of_birth || a.expected_date || ""))
    .map((c) => `${c.given_name || "Baby"} (${ageLabel(c, today) || (c.expected_date ? `due ${fmtDay(c.expected_date)}` : "age not recorded")})`)
    .join(", ");
  const onPlan = (familyId) => (children.get(familyId) || []).some((c) => c.protection_plan);
  const nextVisit = new Map();
  for (const v of visits) {
    if (v.status !== "planned" && v.status !== "in-progress") continue;
    const cur = nextVisit.get(v.family_id);
    if (!cur || (v.planned_for || "") < (cur.planned_for || "")) nextVisit.set(v.family_id, v);
  }
  const openFlags = new Map();
  for (const f of flags) if (f.status !== "closed") openFlags.set(f.family_id, (openFlags.get(f.family_id) || 0) + 1);
  const overdue = new Map();
  for (const f of followUps) if (f.status === "open" && dayKey(f.due_at) < today) overdue.set(f.family_id, (overdue.get(f.family_id) || 0) + 1);

  const sorted = [...families].filter((f) => f.status !== "closed")
    .sort((a, b) => (a.family_name || "").localeCompare(b.family_name || ""));

  const rows = sorted.map((f) => {
    const nv = nextVisit.get(f.id);
    const li = h("li", { class: "hs-caseload__item", "data-testid": "caseload-family" },
      h("a", { href: `#/family/${f.id}`, class: "hs-caseload__link" },
        h("span", { class: "hs-caseload__name" }, f.family_name || "Family"),
        h("span", { class: "hs-hint" }, [f.postcode, (names.get(f.id) || []).length ? `${names.get(f.id).length} people` : null].filter(Boolean).join(" · ")),
        childLine(f.id) ? h("span", { class: "hs-hint", "data-testid": "caseload-children" }, childLine(f.id)) : null,
        nv ? h("span", { class: "hs-hint" }, `Next: ${visitTypeLabel(nv.type)}, ${fmtDay(nv.planned_for)}`) : null),
      h("div", { class: "hs-caseload__tags" },
        onPlan(f.id) ? tag("Child protection plan", "red", { "data-testid": "caseload-plan" }) : null,
        openFlags.get(f.id) ? tag(`${openFlags.get(f.id)} ${openFlags.get(f.id) === 1 ? "flag" : "flags"}`, "red") : null,
        overdue.get(f.id) ? tag(`${overdue.get(f.id)} overdue`, "orange") : null));
    li._text = [f.family_name, f.postcode, ...(names.get(f.id) || [])].join(" ").toLowerCase();
    return li;
  });

  const count = h("p", { class: "hs-body", role: "status", "aria-live": "polite", "data-testid": "caseload-count" },
    `${rows.length} ${rows.length === 1 ? "family" : "families"}`);
  const search = h("input", { class: "hs-input", id: "caseload-search", type: "search", autocomplete: "off",
                              spellcheck: "false", "data-testid": "caseload-search", "aria-describedby": "caseload-search-hint" });
  let pending = 0;
  search.addEventListener("input", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      const terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const li of rows) {
        const hit = terms.every((t) => li._text.includes(t));
        li.hidden = !hit;
        if (hit) shown += 1;
      }
      count.textContent = terms.length
        ? `${shown} of ${rows.length} families match`
        : `${rows.length} ${rows.length === 1 ? "family" : "families"}`;
    });
  });

  fill(root, 
    ...screenTitle("Caseload"),
    h("div", { class: "hs-form-group" },
      h("label", { class: "hs-label", for: "caseload-search" }, "Search families"),
      h("div", { class: "hs-hint", id: "caseload-search-hint" }, "Family name, a person's name or postcode"),
      search),
    count,
    rows.length ? h("ul", { class: "hs-caseload", "data-testid": "caseload-list" }, rows)
      : emptyState("No families on this phone yet. They arrive with the first sync."),
  );
}
