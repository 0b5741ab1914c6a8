"""What every screen must be, measured in the page: tap targets of at least 44 x 44 px, no
raw id, ISO timestamp or programming placeholder in visible text, a tab title free of the
family's and the people's names. Used by the every-screen browser test."""

from __future__ import annotations

# An interactive element's target is its box, or for a radio or checkbox the box of the
# input and its label together (the label is what a finger presses).
TARGETS = """() => {
  const out = [];
  const visible = (el) => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 1 && r.height > 1; };
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('[hidden], .hs-visually-hidden') || el.disabled) continue;
    let r = el.getBoundingClientRect();
    if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels[0]) {
      const l = el.labels[0].getBoundingClientRect();
      const left = Math.min(r.left, l.left), top = Math.min(r.top, l.top);
      r = { width: Math.max(r.right, l.right) - left, height: Math.max(r.bottom, l.bottom) - top };
    } else if (!visible(el)) continue;
    if (r.width < 43.5 || r.height < 43.5) {
      const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.dataset.testid || el.tagName).trim().slice(0, 40);
      out.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}"""

RAW = r"""() => {
  const text = document.body.innerText;
  const found = [];
  for (const [what, re] of [['an id', /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i],
                            ['an ISO timestamp', /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/],
                            ['a placeholder', /\b(null|undefined|NaN)\b|\[object /]]) {
    const m = text.match(re);
    if (m) found.push(`${what}: "${text.slice(Math.max(0, m.index - 30), m.index + m[0].length + 10).replace(/\s+/g, ' ')}"`);
  }
  return found;
}"""

NAMES = """async () => {
  const { model } = window.__hearthside;
  const names = new Set();
  for (const f of await model.list('family')) if (f.family_name) names.add(f.family_name);
  for (const p of await model.list('person')) for (const n of [p.given_name, p.family_name]) if (n) names.add(n);
  return [...names];
}"""


def title_problems(page, names: list[str]) -> list[str]:
    title = page.evaluate("() => document.title")
    return [f'the tab title "{title}" names {n}' for n in names if n.lower() in title.lower()]
