"""The PWA reads the synced model from one generated module, and carries no copy of it.

`pwa/js/generated/model.js` is written from `sync.model` by `hearthside model js --write`;
these tests fail when it is stale, and when any other PWA module defines its own list of a
model vocabulary (observation kinds, visit types, person roles, seen or told, severities,
...) a numeric length limit, or the entities' IndexedDB store names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from js_scan import scan
from server.cli import main
from server.model_cli import render
from sync.model import ENTITIES, as_data

PWA = Path(__file__).resolve().parents[2] / "pwa"
GENERATED = PWA / "js" / "generated" / "model.js"


def vocabularies() -> dict[str, set[str]]:
    """Every choice field that is a vocabulary (states with an order, and status fields,
    are compared by value in code on purpose and are not scanned)."""
    out = {}
    for e in ENTITIES.values():
        for f in e.fields:
            if f.choices and f.order is None and f.name != "status":
                out[f"{e.name}.{f.name}"] = set(f.values)
    return out


def test_the_checked_in_model_module_is_the_servers_model():
    assert GENERATED.read_text(encoding="utf-8") == render(), (
        "pwa/js/generated/model.js is stale: run `hearthside model js --write`, then python tests/pwa/shell_manifest.py")


def test_the_model_module_holds_every_entity_field_choice_and_limit():
    text = GENERATED.read_text(encoding="utf-8")
    body = re.search(r"export const MODEL = (\{.*?\n\});", text, re.S).group(1)
    assert json.loads(body) == as_data()


def test_model_js_prints_the_module_and_writes_it_into_the_pwa_folder(tmp_path, monkeypatch):
    runner = CliRunner()
    printed = runner.invoke(main, ["model", "js"])
    assert printed.exit_code == 0 and printed.output == render()
    monkeypatch.setenv("HEARTHSIDE_PWA_DIR", str(tmp_path))
    written = runner.invoke(main, ["model", "js", "--write"])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "js" / "generated" / "model.js").read_text(encoding="utf-8") == render()


def test_the_service_worker_precaches_the_model_module():
    assert '"/js/generated/model.js"' in (PWA / "sw.js").read_text()


def limits() -> set[int]:
    from sync.model import MAX_JSON_BYTES

    return {f.max_length for e in ENTITIES.values() for f in e.fields if f.max_length} | {MAX_JSON_BYTES}


def stores() -> set[str]:
    return {e.store for e in ENTITIES.values()}


def pwa_modules():
    for p in sorted((PWA / "js").rglob("*.js")):
        if "generated" not in p.relative_to(PWA / "js").parts:
            yield p


def test_no_pwa_module_carries_its_own_list_of_allowed_values_or_a_length_limit():
    vocab = vocabularies()
    assert {"observation.kind", "visit.type", "person.role", "checklist_response.seen_or_told", "flag.severity"} <= set(vocab)
    problems = []
    for p in pwa_modules():
        for f in scan(p.read_text(encoding="utf-8"), vocab, limits(), stores()):
            problems.append(f"{p.relative_to(PWA)}:{f.line}: {f.what}")
    assert problems == [], "read these from js/generated/model.js instead:\n" + "\n".join(problems)


def test_the_scan_finds_planted_copies_and_passes_comparisons():
    vocab = vocabularies()
    planted = """
    const KINDS = [{ value: "fact", label: "Fact" }, { value: "analysis", label: "Analysis" }];
    const SEV = { urgent: ["Urgent", "red"], high: ["High", "orange"] };
    const TYPES = ["antenatal", "new-birth"];
    const LABELS = { "male-carer": "Male carer", mother: "Mother" };
    const area = h("textarea", { maxlength: 2000 });
    if (text.length > 20000) refuse();
    const STORE = { family: "families", person: "persons" };
    const ALL = ["families", "persons", "drafts"];
    """
    found = [f.what for f in scan(planted, vocab, limits(), stores())]
    assert any("observation.kind" in w for w in found)
    assert any("flag.severity" in w for w in found)
    assert any("visit.type" in w for w in found)
    assert any("person.role" in w for w in found)
    assert sum("numeric length limit" in w for w in found) == 2
    assert sum("IndexedDB stores" in w for w in found) == 2
    fine = """
    // a comment naming ["fact", "analysis"] is not code
    if (o.kind === "child-words" || status === "completed") x = `${"fact"} ${"analysis"}`;
    switch (role) { case "mother": case "father": return role; }
    const re = /["fact", "analysis"]/;
    const one = [{ value: "seen", label: "Seen at this visit" }, { value: "not-seen", label: "Not seen" }];
    if (list.length > 0 || iso.length > 10) go();
    """
    assert scan(fine, vocab, limits(), stores()) == []
