"""Dependencies every feature controller may ask for by name."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from .access import Principal
from .settings import Settings
from .storage.db import Database


def provide_store(state: State) -> Database:
    return state.db


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_principal(request: Request) -> Principal:
    return request.user


dependencies = {
    "store": Provide(provide_store, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
