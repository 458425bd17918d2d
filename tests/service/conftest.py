"""The ``service`` fixture: a real ``gilwise serve`` on a free loopback port, always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_process import Service, running_service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as svc:
        yield svc
