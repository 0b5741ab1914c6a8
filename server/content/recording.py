"""Recording-quality check for free text. It warns; it never blocks saving.

Matching works on words, not characters, so "no concerns" matches "No concerns." but not
"snow concerns". Text and phrases are lower-cased and split into runs of letters, digits,
apostrophes and "&"; a phrase matches where its words appear consecutively. The JavaScript
twin (pwa/js/recording.js) does exactly the same so both give the same warnings.
"""

from __future__ import annotations

import re

import msgspec

from . import schema as s

Warning = s.RecordingWarning  # noqa: A001 - the name the rest of the app uses
_WORD = re.compile(r"[a-z0-9']+|&")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'").replace("\u2018", "'"))


def _contains(haystack: list[str], phrase: str) -> bool:
    needle = words(phrase)
    n = len(needle)
    if n == 0:
        return False
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _first_match(haystack: list[str], patterns: list[str]) -> str | None:
    for p in patterns:
        if _contains(haystack, p):
            return p
    return None


def check_recording(text: str, context: s.RecordingContext | dict | None, rules: s.Recording) -> list[s.RecordingWarning]:
    """Warnings for `text`, in order: phrases (as listed), then judgement, then reported speech.

    `context` says whether the child was seen and spoken to alone (unknown counts as not)
    and what kind of observation the text is recorded as (None: not said).
    """
    if context is None:
        context = s.RecordingContext()
    elif not isinstance(context, s.RecordingContext):
        context = msgspec.convert(context, s.RecordingContext)
    toks = words(text)
    out: list[s.RecordingWarning] = []
    for ph in rules.phrases:
        if ph.when == "child-not-seen" and context.child_seen is True:
            continue
        if ph.when == "child-not-spoken-to-alone" and context.child_spoken_to_alone is True:
            continue
        m = _first_match(toks, ph.patterns)
        if m is not None:
            out.append(s.RecordingWarning(code=ph.id, match=m, message=ph.message, source=ph.source))
    j = rules.judgement
    if j is not None and context.kind in (None, "fact"):
        m = _first_match(toks, j.markers)
        if m is not None:
            if context.kind == "fact":
                out.append(s.RecordingWarning(code="judgement-in-fact", match=m, message=j.message, source=j.source))
            elif rules.untyped_message:
                out.append(
                    s.RecordingWarning(code="fact-or-judgement-unstated", match=m, message=rules.untyped_message, source=j.source)
                )
    r = rules.reported_speech
    if r is not None and context.kind == "child-words":
        m = _first_match(toks, r.markers)
        if m is not None:
            out.append(s.RecordingWarning(code="child-words-not-verbatim", match=m, message=r.message, source=r.source))
    return out
