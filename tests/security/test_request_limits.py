"""Every request body the API accepts bounds its strings and lists (max_length), so no
field can take unbounded input. Walks the app's real route handlers, so a new module's
unbounded field fails here (the rule is in docs/architecture.md)."""

from __future__ import annotations

import msgspec
import msgspec.inspect as mi

from server.app import create_app


def _unbounded(t: mi.Type, where: str, seen: set) -> list[str]:
    out: list[str] = []
    if isinstance(t, mi.StrType):
        bounded = t.max_length is not None or (t.pattern is not None and t.pattern.endswith("$")
                                               and "*" not in t.pattern and "+" not in t.pattern)
        if not bounded:
            out.append(f"{where}: string without max_length")
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        if t.max_length is None:
            out.append(f"{where}: list without max_length")
        out += _unbounded(t.item_type, where + "[]", seen)
    elif isinstance(t, mi.DictType):
        if t.max_length is None:
            out.append(f"{where}: object without max_length")
        out += _unbounded(t.value_type, where + "{}", seen)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            out += _unbounded(member, where, seen)
    elif isinstance(t, mi.StructType):
        if t.cls in seen:
            return out
        seen.add(t.cls)
        for f in t.fields:
            out += _unbounded(f.type, f"{t.cls.__name__}.{f.name}", seen)
    elif isinstance(t, mi.AnyType):
        out.append(f"{where}: untyped (Any) field")
    return out


def request_body_types(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            params = handler.parsed_fn_signature.parameters
            if "data" in params:
                # .raw keeps a top-level Annotated bound (which the handler then enforces
                # itself: Litestar does not; see tests/agency for the over-long list).
                yield handler, params["data"].raw


def test_every_request_body_bounds_its_strings_and_lists(tmp_path):
    from server.settings import Settings

    app = create_app(Settings.from_env({}, data_dir=tmp_path / "d"))
    problems, checked = [], 0
    for handler, kind in request_body_types(app):
        checked += 1
        problems += [f"{sorted(handler.paths)}: {p}" for p in _unbounded(mi.type_info(kind), str(kind), set())]
    assert checked >= 6
    assert problems == []


def test_the_checker_catches_an_unbounded_field():
    class Bad(msgspec.Struct):
        text: str
        items: list[int]

    assert len(_unbounded(mi.type_info(Bad), "Bad", set())) == 2
