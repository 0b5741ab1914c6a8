from __future__ import annotations

import pytest

from tests.factories import build_world


@pytest.fixture
def world(store):
    return build_world(store)
