from __future__ import annotations

import pytest

from gilwise._results.stats import paired_ratios, relative_spread, summary


def test_summary() -> None:
    assert summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "values": [3.0, 1.0, 2.0]}
    assert summary([])["median"] is None


def test_relative_spread() -> None:
    assert relative_spread([1.0, 1.1, 0.9]) == pytest.approx(0.2)
    assert relative_spread([5.0]) == 0.0


def test_paired_ratios_skip_missing_rounds() -> None:
    assert paired_ratios([2.0, None, 4.0], [1.0, 1.0, 2.0]) == [2.0, 2.0]
