from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Uuid = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Role = Literal["practitioner", "supervisor", "admin"]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class LoginCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Password
    # Client-generated id of the enrolling device (UUID); reused on later sign-ins.
    device_id: Uuid | None = None
    device_name: ShortText = "Phone"


class RefreshCreate(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]


class UserRead(msgspec.Struct):
    id: str
    username: str
    display_name: str
    role: str
    agency_id: str
    team_id: str | None
    disabled: bool = False
    must_change_password: bool = False


class TeamMemberRead(msgspec.Struct):
    """A colleague as the phone names them (who decided, who a follow-up is for)."""
    id: str
    display_name: str
    role: str


class DeviceRead(msgspec.Struct):
    id: str
    user_id: str
    name: str
    enrolled_at: str
    last_sync_at: str | None = None
    revoked_at: str | None = None


class SessionRead(msgspec.Struct):
    access_token: str
    access_expires_at: str
    refresh_token: str
    refresh_expires_at: str
    user: UserRead
    device: DeviceRead
    # Key the device wraps its data key with, for recovery after a forgotten PIN (never
    # sent to a revoked device).
    escrow_key: str | None
    # 'upload-only': a revoked device's tokens, good for sync push and pull only (to hand
    # over what it holds, then be told to wipe).
    scope: Literal["full", "upload-only"] = "full"
    # An admin reset the password: only choosing a new one (and signing out) is open.
    must_change_password: bool = False


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    display_name: ShortText
    role: Role
    password: Password
    team_id: Uuid | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    display_name: ShortText | None = None
    team_id: Uuid | None = None
    disabled: bool | None = None


class PasswordChangeCreate(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class PasswordChangeRead(msgspec.Struct):
    changed_at: str
    # Sessions on the person's other devices, ended by the change.
    other_sessions_ended: int


class PasswordResetRead(msgspec.Struct):
    user_id: str
    # Shown once, to be given to the person by another channel; it opens only the
    # "choose a new password" step.
    temporary_password: str
    must_change_password: bool = True


class SignOutEverywhereRead(msgspec.Struct):
    devices_signed_out: int
