"""End-to-end tests talk to a local stack over HTTP, not to the in-process mock."""
from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture
def aws() -> Iterator[None]:
    """Replaces the suite's autouse fixture: no in-process moto, no table truncation."""
    yield
