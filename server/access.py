"""Access control, in one place.

Who may see which family is decided only here; storage states it as the condition every
query for a family's records includes (``server/storage/scope.py``). Refusals for records outside a caller's reach are 404 (the
record's existence is itself information); refusals for actions a role may not take on
records it can see are 403.

- practitioner: families allocated to them (active allocation)
- supervisor: families of their team
- admin: every family of their agency
Nobody sees another agency's data.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import Forbidden, NotFound
from .storage import records, scope
from .storage.crypto import Keyring
# The rule's SQL forms live in storage; re-exported for the services that still build
# their queries with them while they move into storage.
from .storage.scope import family_condition, user_condition  # noqa: F401
from .storage.tx import Tx

ROLES = ("practitioner", "supervisor", "admin")


class Principal(msgspec.Struct, frozen=True):
    user_id: str
    username: str
    display_name: str
    role: str
    agency_id: str
    team_id: str | None
    device_id: str


def visible_family_ids(db: Tx, p: Principal) -> set[str]:
    return scope.visible_family_ids(db, p)


def require_family(db: Tx, p: Principal, family_id: str) -> None:
    if not scope.family_in_reach(db, p, family_id):
        raise NotFound("No such family.")


def load_in_reach(db: Tx, keyring: Keyring, p: Principal, entity: str, record_id: str,
                  label: str) -> dict[str, Any]:
    """One record of a family the principal may see, decrypted; 404 otherwise."""
    row = records.get(db, keyring, entity, record_id)
    if row is None:
        raise NotFound(f"No such {label}.")
    require_family(db, p, row["family_id"])
    return row


def require_role(p: Principal, *roles: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"This needs the {' or '.join(roles)} role.")
