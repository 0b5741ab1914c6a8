"""Who may write what: the model's ``Policy`` applied to a writer and a record.

One answer for every path: a phone's op, a supervisor's REST call, an agency's write-back
and the server's own rules all reach these checks through the merge. ``Refused`` carries
a kind so that each path can answer in its own terms (a push result, a 403, a 404) while
the decision itself is made once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .model import Entity

RefusalKind = Literal["invalid", "forbidden", "frozen", "not-found", "out-of-reach", "conflict"]


# A client-chosen id already taken: the same words wherever the record holding it is.
ID_TAKEN = "that id cannot be used: leave it out and the server chooses one"


class Refused(Exception):
    """The op cannot be applied; ``reason`` names fields only, never values."""

    def __init__(self, reason: str, kind: RefusalKind = "forbidden", field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.field = field


@dataclass(frozen=True)
class WriterRole:
    """The part of a writer the policy looks at."""

    role: str  # practitioner / supervisor / admin / integration / system
    user_id: str | None
    team_id: str | None = None


def _scope_allows(scope: str, entity: Entity, writer: WriterRole, record: dict[str, Any]) -> bool:
    if scope == "any":
        return True
    if scope == "own":
        return entity.owner is not None and writer.user_id is not None and record.get(entity.owner) == writer.user_id
    return False


def check_create(entity: Entity, writer: WriterRole, values: dict[str, Any]) -> None:
    scope = entity.policy.create.get(writer.role, "none")
    if scope == "none":
        raise Refused(f"a {writer.role} cannot create {entity.name} records")
    if not _scope_allows(scope, entity, writer, values):
        raise Refused(f"a {writer.role} creates {entity.name} records for themselves only", field=entity.owner)


def check_set(entity: Entity, writer: WriterRole, record: dict[str, Any], name: str) -> None:
    scopes = entity.policy.set.get(name, entity.policy.set_default)
    scope = scopes.get(writer.role, "none")
    if scope == "none":
        raise Refused(f"a {writer.role} cannot change {entity.name}.{name}", field=name)
    if not _scope_allows(scope, entity, writer, record):
        raise Refused(f"only the {entity.name}'s own worker or a supervisor can change {name}", field=name)


def check_delete(entity: Entity, writer: WriterRole, record: dict[str, Any]) -> None:
    if entity.insert_only:
        raise Refused(f"{entity.name} records are kept for good: add a new entry instead")
    scope = entity.policy.delete.get(writer.role, "none")
    if scope == "none":
        raise Refused(f"a {writer.role} cannot delete {entity.name} records")
    if not _scope_allows(scope, entity, writer, record):
        raise Refused(f"only the {entity.name}'s own worker or a supervisor can delete it")


def frozen(entity: Entity, record: dict[str, Any]) -> bool:
    if entity.frozen_when is None:
        return False
    name, states = entity.frozen_when
    return record.get(name) in states


def check_not_frozen(entity: Entity, record: dict[str, Any], name: str | None, writer: WriterRole,
                     froze_by: str | None) -> None:
    """A signed visit, a closed flag, a finished follow-up is not edited. Fields listed in
    ``fill_after_freeze`` may still be filled while empty by whoever froze the record, so
    the order in which a phone sends its last few ops does not matter."""
    if not frozen(entity, record) or name == entity.frozen_when[0]:  # type: ignore[index]
        return  # the state itself moves by its order (an earlier state is superseded)
    if (name is not None and name in entity.fill_after_freeze and record.get(name) is None
            and froze_by is not None and froze_by == writer.user_id):
        return
    if entity.name == "visit":
        raise Refused("the visit is signed: add an addendum instead", "frozen")
    raise Refused(f"the {entity.name} is {record.get(entity.frozen_when[0])}: it is not changed any more", "frozen")
