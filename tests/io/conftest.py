"""Fixtures for the import/export tests (helpers live in ``iokit.py`` next to this file)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.io.iokit import seed_county


@pytest.fixture
def county(engine) -> dict[str, Any]:
    """Banner (with boundary), one town, units, one enterprise, two mines with mining rights."""
    return seed_county(engine)
