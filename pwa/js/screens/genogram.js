// The family's genogram: adults above, children below, the usual symbols, a solid line where
// the adult has parental responsibility and dashed where not. Plain SVG made with DOM calls
// (names go in as text nodes), drawn from the records on this phone, with the same facts
// as a list for anyone who cannot see the drawing.
import { h, fill, screenTitle, summaryList, personName, roleLabel, backLink, emptyState } from "./common.js";
import { familyBundle } from "./data.js";
import { shape, generation } from "../chronology.js";

const NS = "http://www.w3.org/2000/svg";
const COL = 150, ROW = 150, SIZE = 44, PAD = 30;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function symbol(kind, x, y, dashed, testid) {
  const r = SIZE / 2;
  const common = { fill: "#fff", stroke: "#212b32", "stroke-width": 3, "stroke-dasharray": dashed ? "6 4" : null, "data-shape": kind, "data-testid": testid };
  if (kind === "square") return svg("rect", { x: x - r, y: y - r, width: SIZE, height: SIZE, ...common });
  if (kind === "circle") return svg("circle", { cx: x, cy: y, r, ...common });
  if (kind === "triangle") return svg("polygon", { points: `${x},${y - r} ${x + r},${y + r} ${x - r},${y + r}`, ...common });
  return svg("polygon", { points: `${x},${y - r} ${x + r},${y} ${x},${y + r} ${x - r},${y}`, ...common });
}

export function drawGenogram(persons, relationships) {
  const cols = new Map();
  const at = new Map();
  for (const p of persons) {
    const g = generation(p);
    const c = cols.get(g) || 0;
    cols.set(g, c + 1);
    at.set(p.id, { x: PAD + c * COL + COL / 2, y: PAD + g * ROW + SIZE / 2, p });
  }
  const width = PAD * 2 + COL * Math.max(1, ...cols.values());
  const height = PAD * 2 + ROW * (Math.max(0, ...cols.keys()) + 1);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "genogram-title",
                            class: "hs-genogram", "data-testid": "genogram" }, svg("title", { id: "genogram-title" }, "Genogram"));
  for (const r of relationships) {
    const a = at.get(r.adult_id), c = at.get(r.child_id);
    if (!a || !c) continue;
    root.append(svg("line", { x1: a.x, y1: a.y + SIZE / 2, x2: c.x, y2: c.y - SIZE / 2, stroke: "#4c6272", "stroke-width": 2,
                              "stroke-dasharray": r.parental_responsibility ? null : "8 6", "data-testid": "genogram-link" },
      svg("title", {}, `${personName(a.p)}: ${r.relationship} of ${personName(c.p)}`)));
  }
  for (const { x, y, p } of at.values()) {
    root.append(symbol(shape(p), x, y, p.lives_in_household === false, "genogram-person"),
      svg("text", { x, y: y + SIZE / 2 + 22, "text-anchor": "middle", "font-size": 16, "data-testid": "genogram-name" }, personName(p)));
  }
  return root;
}

export async function render(root, params) {
  const b = await familyBundle(params.familyId);
  if (!b.family) {
    fill(root, ...screenTitle("Family not found"), backLink("Caseload", "#/caseload"));
    return;
  }
  const byId = new Map(b.persons.map((p) => [p.id, p]));
  const rels = b.relationships.filter((r) => byId.has(r.adult_id) && byId.has(r.child_id));
  fill(root,
    backLink(`${b.family.family_name} family`, `#/family/${params.familyId}`),
    ...screenTitle("Genogram", { caption: `${b.family.family_name} family` }),
    b.persons.length ? h("div", { class: "hs-genogram-wrap" }, drawGenogram(b.persons, rels)) : emptyState("Nobody recorded."),
    h("p", { class: "hs-hint" }, "Square: male. Circle: female. Diamond: not recorded. Triangle: a pregnancy. A solid line: parental responsibility; dashed: none. A dashed outline: does not live in the household."),
    h("h2", { class: "hs-h2" }, "Relationships"),
    rels.length
      ? summaryList(rels.map((r) => [`${personName(byId.get(r.adult_id))} (${roleLabel(byId.get(r.adult_id).role).toLowerCase()})`,
          `${r.relationship} of ${personName(byId.get(r.child_id))}; parental responsibility: ${r.parental_responsibility ? "yes" : "no"}`]),
        { "data-testid": "genogram-relationships" })
      : emptyState("No relationships recorded."));
}
