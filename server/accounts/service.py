"""Accounts, sign-in and devices."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from typing import Any

from .. import audit
from ..access import Principal, require_role
from ..auth import tokens
from ..auth.passwords import DEMO_PASSWORD, burn_time, hash_password, password_problems, verify_password
from ..clock import now_iso
from ..errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from ..ids import new_id
from ..settings import Settings
from ..storage import accounts as repo
from ..storage.crypto import Keyring, is_encrypted
from ..storage.tx import ConstraintViolated, Tx
from .schemas import DeviceRead, LoginCreate, SessionRead, TeamMemberRead, UserCreate, UserRead

BAD_SIGN_IN = "The username or password is not right."


def user_read(row: dict[str, Any]) -> UserRead:
    return UserRead(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        agency_id=row["agency_id"],
        team_id=row["team_id"],
        disabled=row["disabled_at"] is not None,
        must_change_password=bool(row.get("must_change_password")),
    )


def device_name(keyring: Keyring, row: dict[str, Any]) -> str:
    # Names such as "Jane's phone" say whose it is: encrypted like the escrow key beside it.
    value = row["name"]
    return keyring.decrypt(value, f"devices/{row['id']}/name").decode() if is_encrypted(value) else value


def device_read(keyring: Keyring, row: dict[str, Any]) -> DeviceRead:
    return DeviceRead(
        id=row["id"],
        user_id=row["user_id"],
        name=device_name(keyring, row),
        enrolled_at=row["enrolled_at"],
        last_sync_at=row["last_sync_at"],
        revoked_at=row["revoked_at"],
    )


def create_user(
    db: Tx,
    *,
    agency_id: str,
    username: str,
    display_name: str,
    role: str,
    password: str,
    team_id: str | None = None,
    demo: bool = False,
    user_id: str | None = None,
) -> dict[str, Any]:
    if not demo:
        problems = password_problems(password, username, (display_name,))
        if problems:
            raise InvalidInput(
                "The password is not acceptable.",
                errors=[FieldError("body.password", f"The password {p}.") for p in problems],
            )
    taken = Conflict("That username is taken.", errors=[FieldError("body.username", "already in use")])
    if repo.username_taken(db, username):
        raise taken
    if team_id and not repo.team_in_agency(db, team_id, agency_id):
        raise InvalidInput("No such team.", errors=[FieldError("body.team_id", "no such team in this agency")])
    row = {
        "id": user_id or new_id(),
        "agency_id": agency_id,
        "team_id": team_id,
        "username": username,
        "display_name": display_name,
        "role": role,
        "password_hash": hash_password(password),
        "demo": 1 if demo else 0,
        "disabled_at": None,
        "created_at": now_iso(),
    }
    try:
        repo.insert_user(db, row)
    except ConstraintViolated:  # taken meanwhile by a concurrent create
        raise taken from None
    return row


def trusted_device(db: Tx, body: LoginCreate) -> str | None:
    """The sign-in's device id when it is enrolled (not revoked) to that account: such a
    sign-in has its own back-off, untouched by guessing from elsewhere."""
    if not body.device_id:
        return None
    return repo.enrolled_device(db, body.username, body.device_id)


def check_credentials(db: Tx, settings: Settings, body: LoginCreate) -> dict[str, Any] | None:
    """The user whose password this is, or None. Hashes (the dummy hash for an unknown
    user too), so call it outside any write transaction: it takes a tenth of a second."""
    user = repo.user_by_username(db, body.username)
    if user is None:
        burn_time(body.password)
        return None
    ok = verify_password(body.password, user["password_hash"])
    # The demo users' shared password is published: it only opens a demo deployment.
    if ok and user["demo"] and not settings.demo:
        ok = False
    if ok and body.password == DEMO_PASSWORD and not settings.demo:
        ok = False
    return user if ok and not user["disabled_at"] else None


def start_session(
    db: Tx, keyring: Keyring, settings: Settings, checked: dict[str, Any], body: LoginCreate
) -> SessionRead:
    """The write half of a sign-in whose password ``check_credentials`` accepted (refused
    if the account changed meanwhile: disabled, or its password changed)."""
    user = repo.user_by_id(db, checked["id"])
    if user is None or user["disabled_at"] or user["password_hash"] != checked["password_hash"]:
        raise Unauthorized(BAD_SIGN_IN)
    device = _enrol_or_reuse_device(db, keyring, user, body)
    audit.record(db, "sign-in", agency_id=user["agency_id"], user_id=user["id"], device_id=device["id"])
    return new_session(db, keyring, settings, user, device)


def new_session(
    db: Tx, keyring: Keyring, settings: Settings, user: dict[str, Any], device: dict[str, Any],
    *, upload_only: bool = False,
) -> SessionRead:
    scope = "upload" if upload_only else "full"
    access, access_exp = tokens.issue(
        db, "access", user["id"], device["id"], timedelta(seconds=settings.access_token_ttl_seconds), scope
    )
    refresh_token, refresh_exp = tokens.issue(
        db, "refresh", user["id"], device["id"], timedelta(days=settings.refresh_token_ttl_days), scope
    )
    return SessionRead(
        access_token=access,
        access_expires_at=access_exp,
        refresh_token=refresh_token,
        refresh_expires_at=refresh_exp,
        user=user_read(user),
        device=device_read(keyring, device),
        escrow_key=None if upload_only else escrow_key(keyring, device),
        scope="upload-only" if upload_only else "full",
        must_change_password=bool(user["must_change_password"]),
    )


def _enrol_or_reuse_device(
    db: Tx, keyring: Keyring, user: dict[str, Any], body: LoginCreate
) -> dict[str, Any]:
    if body.device_id:
        device = repo.device_by_id(db, body.device_id)
        if device is not None:
            if device["user_id"] != user["id"]:
                raise InvalidInput(
                    "This device is enrolled to someone else.",
                    errors=[FieldError("body.device_id", "enrolled to another user")],
                )
            if device["revoked_at"]:
                from ..auth.middleware import DeviceRevoked

                raise DeviceRevoked("This device has been revoked; enrol it again with a new device id.")
            return device
    device_id = body.device_id or new_id()
    key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    device = {
        "id": device_id,
        "user_id": user["id"],
        "agency_id": user["agency_id"],
        "name": keyring.encrypt(body.device_name.encode(), f"devices/{device_id}/name"),
        "escrow_key": keyring.encrypt(key.encode(), f"devices/{device_id}/escrow_key"),
        "enrolled_at": now_iso(),
        "last_seen_at": None,
        "last_sync_at": None,
        "revoked_at": None,
        "revoked_by": None,
    }
    repo.insert_device(db, device)
    audit.record(db, "device-enrolled", agency_id=user["agency_id"], user_id=user["id"], device_id=device_id,
                 entity="device", entity_id=device_id)
    return device


def escrow_key(keyring: Keyring, device: dict[str, Any]) -> str:
    return keyring.decrypt(device["escrow_key"], f"devices/{device['id']}/escrow_key").decode()


def logout(db: Tx, p: Principal) -> None:
    """Sign out this device: all its tokens stop working (the enrolment stays)."""
    tokens.revoke_device_tokens(db, p.device_id)
    audit.record(db, "sign-out", **audit.by(p))


def list_users(db: Tx, p: Principal) -> list[UserRead]:
    return [user_read(r) for r in repo.users_visible(db, p)]


def list_team(db: Tx, p: Principal) -> list[TeamMemberRead]:
    """Names of the caller's team (an admin: the agency), so a practitioner's phone can say
    who decided on a flag or who a follow-up is for: staff names only, no family data."""
    rows = repo.team_members(db, p.agency_id, p.team_id, whole_agency=p.role == "admin")
    return [TeamMemberRead(id=r["id"], display_name=r["display_name"], role=r["role"]) for r in rows]


def get_user_row(db: Tx, p: Principal, user_id: str) -> dict[str, Any]:
    row = repo.user_visible(db, p, user_id)
    if row is None:
        raise NotFound("No such user.")
    return row


def set_user_disabled(db: Tx, user: dict[str, Any], disabled: bool, actor: dict[str, Any]) -> None:
    repo.set_disabled_at(db, user["id"], now_iso() if disabled else None)
    if disabled:
        tokens.revoke_user_tokens(db, user["id"])
    audit.record(db, "user-disabled" if disabled else "user-enabled", entity="user", entity_id=user["id"], **actor)


def list_devices(db: Tx, p: Principal) -> list[DeviceRead]:
    if p.role == "practitioner":
        rows = repo.devices_of_user(db, p.user_id)
    else:
        rows = repo.devices_visible(db, p)
    return [device_read(db.keyring, r) for r in rows]


def revoke_device(db: Tx, device_id: str, actor: dict[str, Any], p: Principal | None = None) -> DeviceRead:
    """Revoke a device: its tokens stop working at once; at its next contact it is told
    to upload what it holds and then wipe. ``p`` limits whose devices may be revoked
    (yourself, or an admin in the same agency); the CLI passes none."""
    device = repo.device_by_id(db, device_id)
    if device is None:
        raise NotFound("No such device.")
    if p is not None and device["user_id"] != p.user_id:
        require_role(p, "admin")
        if device["agency_id"] != p.agency_id:
            raise NotFound("No such device.")
    if not device["revoked_at"]:
        repo.mark_device_revoked(db, device_id, now_iso(), actor.get("user_id"))
        # Access tokens are left in place on purpose: the middleware refuses them everywhere
        # except the sync handlers, so the phone can still hand over what it holds (held for
        # review) and be told to wipe. Its refresh token is refused from now on.
        audit.record(db, "device-revoked", entity="device", entity_id=device_id, alert=True,
                     team_id=repo.user_team(db, device["user_id"]), **actor)
    return device_read(db.keyring, repo.device_by_id(db, device_id))


def create_user_as(db: Tx, p: Principal, body: UserCreate) -> UserRead:
    require_role(p, "admin")
    row = create_user(
        db,
        agency_id=p.agency_id,
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
        team_id=body.team_id,
    )
    audit.record(db, "user-created", entity="user", entity_id=row["id"], **audit.by(p))
    return user_read(row)
