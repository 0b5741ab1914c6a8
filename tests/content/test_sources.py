"""Every item's `source` says only what the cited document says: advice that a document
merely links to is attributed to whoever gives it, and a recommendation about one group
is not cited as if it were about another."""

import re

DOCUMENTS = (
    "NICE NG76", "LLR key practice points", "Nottingham Excellence in Safeguarding",
    "10 Principles", "Nottingham EY DSL slides",
)
# Safer-sleep advice that the LLR document links to (the Lullaby Trust) but does not set out.
LULLABY_ITEMS = {
    "sleep-position", "sleep-surface-clear", "items-in-sleep-space", "same-room", "overheating",
    "sofa-sleeping", "bed-sharing", "bed-sharing-risk-factors", "smoking",
}


def _sources(content):
    for c in content.checklists:
        yield c.id, None, c.source
        for s in c.sections:
            yield c.id, s.id, s.source
        for i in c.items:
            yield c.id, i.id, i.source


def test_every_source_names_one_of_the_guidance_documents_or_says_it_is_local_practice(content):
    for cid, iid, src in _sources(content):
        if not src:
            continue
        assert any(d in src for d in DOCUMENTS) or "Hearthside practice" in src, (cid, iid, src)


def test_safer_sleep_advice_the_llr_document_only_links_to_is_attributed_to_the_lullaby_trust(content):
    sleep = content.checklist("safe-sleep")
    for item in sleep.items:
        if item.id in LULLABY_ITEMS:
            assert "Lullaby Trust" in item.source and "links to" in item.source, item.id


def test_ng76_1_1_9_is_cited_only_as_advice_about_contacting_a_child(content):
    for cid, iid, src in _sources(content):
        if re.search(r"NG76 1\.1\.9\b", src):
            assert "child" in src.split("1.1.9", 1)[1][:80], (cid, iid, src)


def test_the_emotional_abuse_record_precisely_point_is_not_cited_for_injuries_or_no_access(content):
    for cid, iid, src in _sources(content):
        if cid in ("injury-non-mobile", "no-access"):
            assert "record precisely" not in src, (cid, iid, src)


def test_the_icon_description_claims_only_the_four_messages_and_involving_every_carer(content):
    icon = content.checklist("icon")
    assert "over-represented" not in icon.description and "commonest" not in icon.description
    for word in ("normal", "comfort", "walk", "shake"):
        assert word in icon.description.lower()
