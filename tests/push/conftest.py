from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings

from .pushservice import PushService


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The tests drive the scheduler tick by tick with their own clock.
    return Settings.from_env({}, data_dir=tmp_path / "data", demo=True, scheduler_enabled=False)


@pytest.fixture
def push_service():
    service = PushService().start()
    yield service
    service.stop()
