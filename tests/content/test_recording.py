from pathlib import Path
import msgspec
import pytest

from server.content.loader import load_recording_cases
from server.content.recording import check_recording, words

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

CASES = load_recording_cases(CONTENT_DIR)


def test_there_are_shared_recording_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recording_case_gives_exactly_the_expected_warnings(content, case):
    got = [msgspec.to_builtins(w) for w in check_recording(case.text, case.context, content.recording)]
    assert got == msgspec.to_builtins(case.expected)


def test_safe_and_well_warns_when_child_was_not_seen(content):
    ws = check_recording("Child safe and well.", {"child_seen": False, "child_spoken_to_alone": False}, content.recording)
    assert [w.code for w in ws] == ["safe-and-well"]
    assert ws[0].source


def test_unknown_context_counts_as_not_seen_and_only_warns(content):
    # Warnings are returned, never raised: saving is the caller's decision.
    ws = check_recording("No concerns, doing well, safe and well.", None, content.recording)
    assert [w.code for w in ws] == ["safe-and-well", "doing-well", "no-concerns", "no-concerns-not-alone"]


def test_words_split_on_punctuation_but_keep_apostrophes():
    assert words("Mum\u2019s view: ALL fine & dandy.") == ["mum's", "view", "all", "fine", "&", "dandy"]
