import json
from pathlib import Path

import pytest

from server.content.cli import render_schema
from server.content.loader import ContentError, load_content
from server.content.schema import OBSERVATION_KINDS

HERE = Path(__file__).resolve().parent
CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

REQUIRED_CHECKLISTS = {
    "safe-sleep", "icon", "home-conditions", "child-seen-alone", "father-male-carer",
    "domestic-abuse-enquiry", "no-access", "injury-non-mobile", "alerting-features", "growth-and-health", "engagement", "development-and-needs", "household",
}


def test_shipped_content_loads_with_every_required_checklist(content):
    assert REQUIRED_CHECKLISTS <= {c.id for c in content.checklists}
    for c in content.checklists:
        assert c.version >= 1
        for item in c.items:
            assert item.source.strip() and item.guidance.strip(), (c.id, item.id)


def test_content_version_changes_when_a_file_changes(tmp_path):
    import shutil

    shutil.copytree(CONTENT_DIR, tmp_path / "c")
    before = load_content(tmp_path / "c").version
    f = tmp_path / "c" / "checklists" / "80-no-access.yaml"
    f.write_text(f.read_text().replace("title: No access", "title: No access visit"))
    after = load_content(tmp_path / "c").version
    assert before != after and after.startswith("2025.1+")


def test_neglect_grades_describe_every_point_of_the_agency_scale(content):
    home = content.checklist("home-conditions")
    graded = [i for i in home.items if i.type == "grade"]
    assert len(graded) >= 20
    scale = [g.grade for g in content.grade_scale]
    for item in graded:
        assert sorted(g.grade for g in item.grades) == scale, item.id
    assert "tidy" in home.sections[0].guidance  # shown where grading starts


def test_free_text_items_say_what_kind_of_observation_they_record(content):
    for c in content.checklists:
        for item in c.items:
            if item.records is not None:
                assert item.records in OBSERVATION_KINDS


# (fixture dir, words the message must contain: file, checklist, item, problem)
BROKEN = [
    ("bad-yaml", ["checklists/tiny.yaml", "invalid YAML at line 9"]),
    ("unknown-answer-type", ["checklists/tiny.yaml", "checklist 'tiny'", "item 'slept-where'", "Invalid enum value 'yes-or-no'"]),
    ("duplicate-item-id", ["checklists/tiny.yaml", "checklist 'tiny'", "item 'slept-where'", "duplicate item id"]),
    ("rule-on-unknown-item", ["checklists/tiny.yaml", "checklist 'tiny'", "item 'slept-where'", "rule 'sofa-sleep'", "unknown item 'slept-were'"]),
    ("rule-value-not-in-choices", ["checklist 'tiny'", "item 'slept-where'", "rule 'sofa-sleep'", "value 'couch' is not a choice", "choices: cot, sofa"]),
    ("missing-source", ["checklists/tiny.yaml", "checklist 'tiny'", "item 'hygiene'", "missing required field `source`"]),
    ("grade-missing-descriptor", ["checklist 'tiny'", "item 'hygiene'", "missing a descriptor for grade 3"]),
    ("wrong-version-type", ["checklists/tiny.yaml", "checklist 'tiny'", "Expected `int`, got `str`", "$.version"]),
    ("unquoted-no-is-a-boolean", ["item 'slept-where'", "rule 'sofa-sleep'", "got `bool`", 'write "yes" or "no" in quotes']),
    ("unknown-param", ["rule 'sofa-sleep'", "unknown param 'sofa_limit'"]),
    ("rule-about-wrong-person", ["rule 'sofa-sleep'", "per 'carer' differs from the item's subject 'child'"]),
    ("grade-rule-on-choice-item", ["rule 'sofa-sleep'", "is single-choice, not grade"]),
    ("duplicate-rule-id", ["checklists/b.yaml", "checklist 'tiny-two'", "rule 'sofa-sleep'", "duplicate rule id (also in checklists/a.yaml"]),
]


def test_the_valid_fixture_loads_so_each_broken_one_fails_for_its_own_reason():
    c = load_content(HERE / "fixtures" / "tiny-valid")
    assert [x.id for x in c.checklists] == ["tiny"]


@pytest.mark.parametrize("name,needles", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_content_is_rejected_with_a_precise_message(name, needles):
    with pytest.raises(ContentError) as err:
        load_content(HERE / "broken" / name)
    assert len(err.value.problems) == 1, str(err.value)
    message = str(err.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_there_are_at_least_eight_broken_fixtures():
    assert len([d for d in (HERE / "broken").iterdir() if d.is_dir()]) >= 8
    assert {d.name for d in (HERE / "broken").iterdir() if d.is_dir()} == {b[0] for b in BROKEN}


def test_missing_checklists_folder_is_reported(tmp_path):
    with pytest.raises(ContentError, match="checklists: folder not found"):
        load_content(tmp_path)


def test_schema_json_matches_the_structs():
    # Regenerate with: python -m server.content.cli schema --write
    on_disk = (CONTENT_DIR / "schema.json").read_text(encoding="utf-8")
    assert on_disk == render_schema(), "content/schema.json is stale: run `python -m server.content.cli schema --write`"
    schema = json.loads(on_disk)
    assert {"Checklist", "Item", "Rule", "CountVisits", "Facts", "Outcome"} <= set(schema["$defs"])
