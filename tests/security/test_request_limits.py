"""Every request body the API accepts bounds its strings and lists (max_length), so no
field can take unbounded input. Walks the app's real route handlers, so a new module's
unbounded field fails here (the rule is in docs/architecture.md)."""

from __future__ import annotations

from typing import Annotated

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


def _unbounded_ints(t: mi.Type, where: str, seen: set) -> list[str]:
    from server.security.limits import INT64_MAX

    if isinstance(t, mi.IntType):
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
        return [] if high is not None and high <= INT64_MAX and low is not None and low >= -INT64_MAX - 1 \
            else [f"{where}: integer without 64-bit bounds"]
    inner: list[tuple[mi.Type, str]] = []
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        inner = [(t.item_type, where + "[]")]
    elif isinstance(t, mi.DictType):
        inner = [(t.value_type, where + "{}")]
    elif isinstance(t, mi.UnionType):
        inner = [(m, where) for m in t.types]
    elif isinstance(t, mi.StructType) and t.cls not in seen:
        seen.add(t.cls)
        inner = [(f.type, f"{t.cls.__name__}.{f.name}") for f in t.fields]
    return [p for sub, w in inner for p in _unbounded_ints(sub, w, seen)]


def test_every_integer_a_request_carries_is_bounded_to_64_bits(tmp_path):
    """Query, path and header integers, request bodies and the sync ops (decoded by the
    merge, not by a handler's signature): beyond 64 bits is a 400 naming the field."""
    from litestar.params import ParameterKwarg

    from server.settings import Settings
    from sync.protocol import OpHeader, PushRequest, Op

    app = create_app(Settings.from_env({}, data_dir=tmp_path / "d"))
    problems, checked = [], 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for name, param in handler.parsed_fn_signature.parameters.items():
                if name == "data":
                    found = _unbounded_ints(mi.type_info(param.raw), name, set())
                elif param.is_subclass_of(int) and not param.is_subclass_of(bool):
                    kwarg = param.kwarg_definition
                    bounded = isinstance(kwarg, ParameterKwarg) and kwarg.le is not None and kwarg.ge is not None \
                        and kwarg.le <= 2**63 - 1
                    found = [] if bounded else [f"{name}: integer parameter without 64-bit bounds"]
                else:
                    continue
                checked += 1
                problems += [f"{sorted(handler.paths)}: {p}" for p in found]
    for kind in (PushRequest, OpHeader, Op):
        problems += _unbounded_ints(mi.type_info(kind), getattr(kind, "__name__", "Op"), set())
    assert checked >= 10
    assert problems == []


def test_the_integer_checker_catches_an_unbounded_integer():
    class Bad(msgspec.Struct):
        n: int
        items: list[Annotated[int, msgspec.Meta(ge=0)]]

    assert len(_unbounded_ints(mi.type_info(Bad), "Bad", set())) == 2
