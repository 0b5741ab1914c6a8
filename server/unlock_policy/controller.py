from __future__ import annotations

from litestar import Controller, get, patch

from ..access import Principal, require_role
from ..storage.db import Database
from . import service
from .schemas import UnlockPolicyRead, UnlockPolicyUpdate


class UnlockPolicyController(Controller):
    path = "/api/v1/unlock-policy"
    tags = ["accounts"]

    @get("/", sync_to_thread=True)
    def get_unlock_policy(self, store: Database, principal: Principal) -> UnlockPolicyRead:
        """The caller's agency's rule for the secret that unlocks a phone; the phone enforces
        it when that secret is chosen or changed."""
        with store.read() as db:
            return service.policy_for(db, principal.agency_id)

    @patch("/", sync_to_thread=True)
    def update_unlock_policy(self, data: UnlockPolicyUpdate, store: Database, principal: Principal) -> UnlockPolicyRead:
        """Require a longer PIN or a passphrase (admins of the agency). Phones apply it the
        next time their secret is checked: at the next unlock a secret that falls short
        must be changed."""
        require_role(principal, "admin")
        with store.write() as db:
            return service.update_policy(db, principal, data)
