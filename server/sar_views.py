"""The subject-access export's chronology and genogram, by the one declaration
(``sync.family_views``) the phone also draws them from. Text is escaped; the genogram is
plain SVG markup (no script, no style attribute) inside the export's HTML page."""

from __future__ import annotations

import html
from typing import Any, Callable

from sync import family_views
from sync.model import ENTITIES

_ROLE_RANK = {v: i for i, v in enumerate(ENTITIES["person"].field("role").values)}  # type: ignore[union-attr]
COL, ROW, SIZE, PAD = 150, 150, 44, 30


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("deleted")]


def chronology(person_id: str, rows: Callable[[str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return family_views.chronology(person_id, live(rows("person")), live(rows("visit")),
                                   live(rows("checklist_response")), live(rows("flag")), live(rows("follow_up")))


def genogram(persons: list[dict[str, Any]], relationships: list[dict[str, Any]],
             who: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    people = sorted(live(persons), key=lambda p: (_ROLE_RANK.get(p["role"], 99), p.get("date_of_birth") or p.get("expected_date") or ""))
    rows: dict[int, int] = {}
    out = []
    for p in people:
        gen = family_views.GENERATION.get(p["role"], 0)
        col = rows.get(gen, 0)
        rows[gen] = col + 1
        out.append({**who(p["id"]), "role": p["role"], "sex": p.get("sex"), "shape": family_views.shape(p),
                    "generation": gen, "column": col, "lives_in_household": p.get("lives_in_household") is not False})
    ids = {p["id"] for p in out}
    links = [{"adult": who(r["adult_id"]), "child": who(r["child_id"]), "relationship": r["relationship"],
              "parental_responsibility": bool(r.get("parental_responsibility"))}
             for r in live(relationships) if r["adult_id"] in ids and r["child_id"] in ids]
    return {"people": out, "relationships": links}


def _centre(p: dict[str, Any]) -> tuple[int, int]:
    return PAD + p["column"] * COL + COL // 2, PAD + p["generation"] * ROW + SIZE // 2


def _symbol(p: dict[str, Any]) -> str:
    x, y = _centre(p)
    r = SIZE // 2
    dash = ' stroke-dasharray="6 4"' if not p["lives_in_household"] else ""
    common = f'fill="#fff" stroke="#212b32" stroke-width="3"{dash}'
    if p["shape"] == "square":
        return f'<rect x="{x - r}" y="{y - r}" width="{SIZE}" height="{SIZE}" {common}/>'
    if p["shape"] == "circle":
        return f'<circle cx="{x}" cy="{y}" r="{r}" {common}/>'
    if p["shape"] == "triangle":
        return f'<polygon points="{x},{y - r} {x + r},{y + r} {x - r},{y + r}" {common}/>'
    return f'<polygon points="{x},{y - r} {x + r},{y} {x},{y + r} {x - r},{y}" {common}/>'


def genogram_svg(g: dict[str, Any]) -> str:
    people = {p["id"]: p for p in g["people"]}
    width = PAD * 2 + COL * max([p["column"] + 1 for p in g["people"]] or [1])
    height = PAD * 2 + ROW * (max([p["generation"] for p in g["people"]] or [0]) + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}"'
             f' height="{height}" aria-labelledby="genogram-title"><title id="genogram-title">Genogram</title>']
    for link in g["relationships"]:
        a, c = people[link["adult"]["id"]], people[link["child"]["id"]]
        (x1, y1), (x2, y2) = _centre(a), _centre(c)
        dash = "" if link["parental_responsibility"] else ' stroke-dasharray="8 6"'
        parts.append(f'<line x1="{x1}" y1="{y1 + SIZE // 2}" x2="{x2}" y2="{y2 - SIZE // 2}" stroke="#4c6272"'
                     f' stroke-width="2"{dash}><title>{html.escape(link["relationship"])}</title></line>')
    for p in g["people"]:
        x, y = _centre(p)
        parts.append(_symbol(p))
        name = p.get("name") or "Not named"
        parts.append(f'<text x="{x}" y="{y + SIZE // 2 + 22}" text-anchor="middle" font-size="16">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def chronology_html(events: list[dict[str, Any]]) -> str:
    if not events:
        return "<p>None held.</p>"
    rows = []
    for e in events:
        detail = "; ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in e["detail"].items() if v not in (None, ""))
        rows.append(f"<tr><td>{html.escape(e['at'] or 'Date not recorded')}</td><td>{html.escape(e['label'])}</td>"
                    f"<td>{detail}</td></tr>")
    return ('<table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Detail</th></tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table>")
