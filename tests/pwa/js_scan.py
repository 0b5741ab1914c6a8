"""Find copies of the model's vocabularies and limits in the PWA's JavaScript.

A copy is a *definition*: an array literal with two or more values of one vocabulary as
members (``["fact", "analysis"]``, or objects ``{value: "fact", ...}`` as members), an
object literal with two or more of them as keys (``{urgent: ..., high: ...}``), or a
numeric length limit (``maxlength: 500``, ``text.length > 2000``). Comparisons such as
``kind === "child-words"`` or ``case "mother":`` name one value for a reason of their own
and are not copies. The tokenizer is small: strings, template literals, comments and
regular-expression literals are told apart from code, which is all the search needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PUNCT_BEFORE_REGEX = set("(,=:[!&|?{};+-*%<>~^")
KEYWORDS_BEFORE_REGEX = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"}
IDENT = re.compile(r"[A-Za-z_$][\w$]*")
NUMBER = re.compile(r"\d[\d_]*(\.\d+)?([eE][+-]?\d+)?")


@dataclass
class Tok:
    kind: str  # "str", "ident", "num", "punct", "tmpl", "regex"
    text: str
    line: int


def tokenize(src: str) -> list[Tok]:
    out: list[Tok] = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            i = src.find("\n", i) if src.find("\n", i) >= 0 else n
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c in "'\"":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(Tok("str", _unescape(src[i + 1:j]), line))
            i = j + 1
        elif c == "`":
            j, depth = i + 1, 0
            while j < n:
                if src[j] == "\\":
                    j += 2
                    continue
                if src.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if src[j] == "}" and depth:
                    depth -= 1
                elif src[j] == "`" and not depth:
                    break
                j += 1
            line += src.count("\n", i, j)
            out.append(Tok("tmpl", "", line))
            i = j + 1
        elif c == "/" and _regex_allowed(out):
            j, in_class = i + 1, False
            while j < n and (src[j] != "/" or in_class):
                if src[j] == "\\":
                    j += 1
                elif src[j] == "[":
                    in_class = True
                elif src[j] == "]":
                    in_class = False
                j += 1
            j += 1
            while j < n and src[j].isalpha():
                j += 1
            out.append(Tok("regex", src[i:j], line))
            i = j
        elif m := IDENT.match(src, i):
            out.append(Tok("ident", m.group(), line))
            i = m.end()
        elif m := NUMBER.match(src, i):
            out.append(Tok("num", m.group(), line))
            i = m.end()
        else:
            out.append(Tok("punct", c, line))
            i += 1
    return out


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _regex_allowed(prev: list[Tok]) -> bool:
    if not prev:
        return True
    t = prev[-1]
    return (t.kind == "punct" and t.text in PUNCT_BEFORE_REGEX) or (t.kind == "ident" and t.text in KEYWORDS_BEFORE_REGEX)


@dataclass
class Finding:
    line: int
    what: str


def _literal_members(toks: list[Tok], start: int) -> tuple[int, list[tuple[str, Tok, int]]]:
    """For the bracket at ``start``: its end, and its direct members as (role, token, index):
    role "member" (an array's string element), "key" (an object's key), "value-prop"
    (an object's ``value: "x"`` property)."""
    open_ = toks[start].text
    close = {"[": "]", "{": "}", "(": ")"}[open_]
    members = []
    i = start + 1
    depth = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "punct" and t.text in "[{(":
            depth += 1
        elif t.kind == "punct" and t.text in "]})":
            if depth == 0:
                return i, members
            depth -= 1
        elif depth == 0:
            before = toks[i - 1]
            after = toks[i + 1] if i + 1 < len(toks) else None
            starts_item = before.kind == "punct" and before.text in (open_, ",")
            if open_ == "[" and t.kind == "str" and starts_item and after and after.text in (",", "]"):
                members.append(("member", t, i))
            if open_ == "{" and t.kind in ("str", "ident") and starts_item and after and after.text == ":":
                members.append(("key", t, i))
                nxt = toks[i + 2] if i + 2 < len(toks) else None
                if nxt is not None and nxt.kind == "str":
                    nxt_after = toks[i + 3] if i + 3 < len(toks) else None
                    if nxt_after is not None and nxt_after.text in (",", "}"):
                        members.append(("value-prop" if t.text == "value" else "prop-str", nxt, i + 2))
        i += 1
    return len(toks), members


def scan(src: str, vocabularies: dict[str, set[str]], limits: set[int] = frozenset(),
         stores: set[str] = frozenset()) -> list[Finding]:
    """Copies in ``src`` of any vocabulary, of the entities' IndexedDB store names (as
    members or string values of one literal), or of a length limit (``limits``: the
    model's own, found in ``.length > N`` checks; any number given as a maxlength)."""
    toks = tokenize(src)
    found: list[Finding] = []
    for i, t in enumerate(toks):
        if t.kind != "punct" or t.text not in "[{":
            continue
        end, members = _literal_members(toks, i)
        values: list[str] = []
        if t.text == "[":
            values += [m[1].text for m in members if m[0] == "member"]
            # objects as members: {value: "fact", label: ...}
            j = i + 1
            while j < end:
                if toks[j].kind == "punct" and toks[j].text == "{" and toks[j - 1].text in ("[", ","):
                    inner_end, inner = _literal_members(toks, j)
                    values += [m[1].text for m in inner if m[0] == "value-prop"]
                    j = inner_end
                j += 1
        else:
            values += [m[1].text for m in members if m[0] == "key"]
        named = {m[1].text for m in members if m[0] in ("member", "prop-str")} & set(stores)
        if len(named) >= 2:
            found.append(Finding(t.line, f"a list of IndexedDB stores ({', '.join(sorted(named))})"))
        for name, vocab in vocabularies.items():
            hits = sorted({v for v in values if v in vocab})
            if len(hits) >= 2:
                found.append(Finding(t.line, f"a list of {name} ({', '.join(hits)})"))
    found += _limits(toks, limits)
    return found


def _limits(toks: list[Tok], limits: set[int]) -> list[Finding]:
    out = []
    for i, t in enumerate(toks):
        nxt = toks[i + 1 : i + 4]
        if t.kind in ("ident", "str") and t.text.lower().replace("_", "").replace("-", "") in ("maxlength", "maxchars", "limit"):
            # maxlength: 500 / maxLength = 500 / setAttribute("maxlength", "500")
            if len(nxt) >= 2 and nxt[0].text in (":", "=", ",") and (nxt[1].kind == "num" or (nxt[1].kind == "str" and nxt[1].text.isdigit())):
                out.append(Finding(t.line, f"a numeric length limit ({t.text} {nxt[1].text})"))
        if t.kind == "ident" and t.text == "length" and i > 0 and toks[i - 1].text == ".":
            # text.length > 2000 / >= : an upper bound the model declares (small numbers such
            # as a date string's 10 characters are too common to mean a copy)
            j = i + 1
            op = ""
            while j < len(toks) and toks[j].kind == "punct" and toks[j].text in "<>=!" and len(op) < 3:
                op += toks[j].text
                j += 1
            if (op in (">", ">=") and j < len(toks) and toks[j].kind == "num"
                    and int(float(toks[j].text.replace("_", ""))) in {n for n in limits if n >= 100}):
                out.append(Finding(t.line, f"a numeric length limit (.length {op} {toks[j].text})"))
    return out
