"""Fixtures of the fault-injection cases (helpers in ``tests/fault_injection.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fault_injection import fault_environment


@pytest.fixture
def fault_env(tmp_path: Path) -> dict[str, str]:
    return fault_environment(tmp_path)
