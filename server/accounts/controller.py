from __future__ import annotations

from litestar import Controller, get, patch, post

from .. import audit
from ..access import Principal, require_role
from ..settings import Settings
from ..storage.db import Database
from . import service
from .schemas import DeviceRead, LoginCreate, RefreshCreate, SessionRead, UserCreate, UserRead, UserUpdate


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", opt={"public": True}, status_code=200, sync_to_thread=True)
    def create_session(self, data: LoginCreate, store: Database, settings: Settings) -> SessionRead:
        """Sign in with username and password; enrols the device on first use."""
        with store.write() as db:
            return service.login(db, store.keyring, settings, data)

    @post("/refresh", opt={"public": True}, status_code=200, sync_to_thread=True)
    def refresh_session(self, data: RefreshCreate, store: Database, settings: Settings) -> SessionRead:
        """Swap a refresh token for a new access and refresh token."""
        with store.write() as db:
            return service.refresh(db, store.keyring, settings, data.refresh_token)

    @post("/logout", status_code=204, sync_to_thread=True)
    def delete_session(self, store: Database, principal: Principal) -> None:
        """Sign this device out: every token it holds stops working."""
        with store.write() as db:
            service.logout(db, principal)


class AccountsController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", sync_to_thread=True)
    def get_me(self, store: Database, principal: Principal) -> UserRead:
        with store.read() as db:
            return service.user_read(service.get_user_row(db, principal, principal.user_id))

    @get("/users", sync_to_thread=True)
    def list_users(self, store: Database, principal: Principal) -> list[UserRead]:
        with store.read() as db:
            return service.list_users(db, principal)

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
                db.execute("UPDATE users SET display_name = ? WHERE id = ?", [data.display_name, user_id])
            if data.team_id is not None:
                if not list(db.query("SELECT 1 FROM teams WHERE id = ? AND agency_id = ?",
                                     [data.team_id, principal.agency_id])):
                    from ..errors import FieldError, InvalidInput

                    raise InvalidInput("No such team.", errors=[FieldError("body.team_id", "no such team")])
                db.execute("UPDATE users SET team_id = ? WHERE id = ?", [data.team_id, user_id])
            if data.disabled is not None:
                service.set_user_disabled(db, row, data.disabled, audit.by(principal))
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
