"""Password change (with the current password), an admin's reset (forcing a change at the
next sign-in) and "sign me out of every device".

Hashing runs outside any write transaction (as in sign-in); a wrong current password
counts against the same back-off as a wrong sign-in from this device, so a stolen access
token cannot be used to guess the password at full speed."""

from __future__ import annotations

from litestar import Controller, Request, post

from .. import audit
from ..access import Principal, require_role
from ..auth import tokens
from ..auth.passwords import hash_password, password_problems, temporary_password, verify_password
from ..clock import now_iso
from ..errors import FieldError, InvalidInput, Unauthorized
from ..security.throttle import Throttle, client_address
from ..settings import Settings
from ..storage import accounts
from ..storage.db import Database
from . import service
from .schemas import PasswordChangeCreate, PasswordChangeRead, PasswordResetRead, SignOutEverywhereRead

# Open while an admin's reset is waiting for a new password (see auth/middleware.py).
CHANGE_OPEN = {"allow_password_change": True}


def _refuse_new(user: dict, password: str) -> None:
    problems = password_problems(password, user["username"], (user["display_name"],))
    if problems:
        raise InvalidInput("The new password is not acceptable.",
                           errors=[FieldError("body.new_password", f"The password {p}.") for p in problems])


class PasswordController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/me/password", status_code=200, opt={**CHANGE_OPEN, "throttled": True}, sync_to_thread=True)
    def change_password(
        self, request: Request, data: PasswordChangeCreate, store: Database, principal: Principal, settings: Settings
    ) -> PasswordChangeRead:
        """Change your password, giving the current one. Every session on your other
        devices ends; this one carries on."""
        throttle: Throttle = request.app.state.throttle
        address = client_address(request)
        with store.read() as db:
            user = service.get_user_row(db, principal, principal.user_id)
        attempt = throttle.attempt(store.keyring, user["username"], address, principal.device_id)
        with store.write() as db:
            throttle.reserve(db, attempt)
        if not verify_password(data.current_password, user["password_hash"]):
            raise InvalidInput("The current password is not right.",
                               errors=[FieldError("body.current_password", "is not right")])
        if data.new_password == data.current_password:
            raise InvalidInput("Choose a password you have not used here.",
                               errors=[FieldError("body.new_password", "is the current password")])
        _refuse_new(user, data.new_password)
        new_hash = hash_password(data.new_password)
        with store.write() as db:
            throttle.succeeded(db, attempt)
            if accounts.password_hash_of(db, user["id"]) != user["password_hash"]:
                raise Unauthorized("The password was changed meanwhile; sign in again.")
            changed_at = now_iso()
            accounts.set_password(db, user["id"], new_hash, must_change=False, changed_at=changed_at)
            ended = tokens.revoke_user_tokens_except_device(db, user["id"], principal.device_id)
            audit.record(db, "password-changed", entity="user", entity_id=user["id"], **audit.by(principal),
                         detail={"other_tokens_revoked": ended})
        return PasswordChangeRead(changed_at=changed_at, other_sessions_ended=ended)

    @post("/users/{user_id:str}/password-reset", status_code=200, sync_to_thread=True)
    def reset_password(self, user_id: str, store: Database, principal: Principal) -> PasswordResetRead:
        """Reset someone's password (admins of their agency): every session of theirs ends
        and the one-time password answered opens only "choose a new password"."""
        require_role(principal, "admin")
        temporary = temporary_password()
        new_hash = hash_password(temporary)
        with store.write() as db:
            user = service.get_user_row(db, principal, user_id)
            accounts.set_password(db, user["id"], new_hash, must_change=True, changed_at=now_iso())
            tokens.revoke_user_tokens(db, user["id"])
            Throttle().forget_account(db, store.keyring, user["username"])
            audit.record(db, "password-reset", entity="user", entity_id=user["id"], **audit.by(principal))
        return PasswordResetRead(user_id=user["id"], temporary_password=temporary)

    @post("/me/sign-out-everywhere", status_code=200, opt=CHANGE_OPEN, sync_to_thread=True)
    def sign_out_everywhere(self, store: Database, principal: Principal) -> SignOutEverywhereRead:
        """End every session of yours, on every device, this one included."""
        with store.write() as db:
            devices = accounts.devices_with_live_tokens(db, principal.user_id, now_iso())
            tokens.revoke_user_tokens(db, principal.user_id)
            audit.record(db, "signed-out-everywhere", **audit.by(principal), detail={"devices": len(devices)})
        return SignOutEverywhereRead(devices_signed_out=len(devices))
