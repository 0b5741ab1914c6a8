from __future__ import annotations

from litestar import Controller, Request, get, patch, post

from .. import audit
from ..access import Principal, require_role
from ..errors import DomainError, Unauthorized
from ..security import refresh, sessions
from ..security.throttle import Throttle, client_address
from ..settings import Settings
from ..storage import accounts
from ..storage.db import Database
from . import service
from .schemas import DeviceRead, LoginCreate, RefreshCreate, SessionRead, TeamMemberRead, UserCreate, UserRead, UserUpdate


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", opt={"public": True, "throttled": True}, status_code=200, sync_to_thread=True)
    def create_session(self, request: Request, data: LoginCreate, store: Database, settings: Settings) -> SessionRead:
        """Sign in with username and password; enrols the device on first use. Repeated
        failures make further tries wait (429 with Retry-After); nothing locks an account.
        A wrong password and an unknown username get the same answer."""
        throttle: Throttle = request.app.state.throttle
        address = client_address(request)
        with store.read() as db:
            attempt = throttle.attempt(store.keyring, data.username, address, service.trusted_device(db, data))
        with store.write() as db:
            throttle.reserve(db, attempt)
        # The password is hashed outside any write transaction: sign-ins (even a flood of
        # them for unknown users) never hold up other writers.
        user = service.check_credentials(store.connect(), settings, data)
        if user is None:
            with store.write() as db:
                found = accounts.user_by_username(db, data.username)
                known = found or {"id": None, "agency_id": None}
                audit.record(db, "sign-in-failed", agency_id=known["agency_id"], user_id=known["id"],
                             detail={"address": address, "known_user": found is not None})
            raise Unauthorized(service.BAD_SIGN_IN)
        try:
            with store.write() as db:
                throttle.succeeded(db, attempt)
                session = service.start_session(db, store.keyring, settings, user, data)
                return sessions.started(db, session, settings)
        except DomainError:
            with store.write() as db:  # the password was right: its count goes all the same
                throttle.succeeded(db, attempt)
            raise

    @post("/refresh", opt={"public": True}, status_code=200, sync_to_thread=True)
    def refresh_session(self, data: RefreshCreate, store: Database, settings: Settings) -> SessionRead:
        """Swap a refresh token for a new access and refresh token (never past the
        session's absolute lifetime). The previous token, presented again within the
        grace, gets the same pair once (a lost reply); after that it ends every session of
        the device (a replay). A revoked device gets an upload-only pair."""
        with store.write() as db:
            outcome = refresh.rotate(db, store.keyring, settings, data.refresh_token)
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    @post("/logout", status_code=204, opt={"allow_password_change": True}, sync_to_thread=True)
    def delete_session(self, store: Database, principal: Principal) -> None:
        """Sign this device out: every token it holds stops working."""
        with store.write() as db:
            service.logout(db, principal)


class AccountsController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", opt={"allow_password_change": True}, sync_to_thread=True)
    def get_me(self, store: Database, principal: Principal) -> UserRead:
        with store.read() as db:
            return service.user_read(service.get_user_row(db, principal, principal.user_id))

    @get("/users", sync_to_thread=True)
    def list_users(self, store: Database, principal: Principal) -> list[UserRead]:
        with store.read() as db:
            return service.list_users(db, principal)

    @get("/team", sync_to_thread=True)
    def list_team(self, store: Database, principal: Principal) -> list[TeamMemberRead]:
        """The caller's team by name (staff only), for the phone to name who did what."""
        with store.read() as db:
            return service.list_team(db, principal)

    @post("/users", sync_to_thread=True)
    def create_user(self, data: UserCreate, store: Database, principal: Principal) -> UserRead:
        with store.write() as db:
            return service.create_user_as(db, principal, data)

    @patch("/users/{user_id:str}", sync_to_thread=True)
    def update_user(self, user_id: str, data: UserUpdate, store: Database, principal: Principal) -> UserRead:
        require_role(principal, "admin")
        with store.write() as db:
            row = service.get_user_row(db, principal, user_id)
            if data.display_name is not None:
                accounts.set_display_name(db, user_id, data.display_name)
            if data.team_id is not None:
                if not accounts.team_in_agency(db, data.team_id, principal.agency_id):
                    from ..errors import FieldError, InvalidInput

                    raise InvalidInput("No such team.", errors=[FieldError("body.team_id", "no such team")])
                accounts.set_team(db, user_id, data.team_id)
            if data.disabled is not None:
                service.set_user_disabled(db, row, data.disabled, audit.by(principal))
            if data.display_name is not None or data.team_id is not None:
                audit.record(db, "user-updated", entity="user", entity_id=user_id, **audit.by(principal),
                             detail={"fields": [f for f in ("display_name", "team_id")
                                                if getattr(data, f) is not None]})
            return service.user_read(service.get_user_row(db, principal, user_id))

    @get("/devices", sync_to_thread=True)
    def list_devices(self, store: Database, principal: Principal) -> list[DeviceRead]:
        with store.read() as db:
            return service.list_devices(db, principal)

    @post("/devices/{device_id:str}/revoke", status_code=200, sync_to_thread=True)
    def revoke_device(self, device_id: str, store: Database, principal: Principal) -> DeviceRead:
        """Revoke a lost phone (an admin, or the owner): its tokens stop at once."""
        with store.write() as db:
            return service.revoke_device(db, device_id, audit.by(principal), principal)
