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


def test_median_interval_is_the_sign_test_interval() -> None:
    from gilwise._results.stats import median_interval

    five = median_interval([1.9, 1.7, 1.8, 2.0, 1.6])
    assert five is not None
    # Below 6 values even [min, max] falls short of 95 %: the interval says how sure it is.
    assert (five["low"], five["high"]) == (1.6, 2.0)
    assert five["level"] == pytest.approx(1 - 2 / 32)
    assert five["half_width"] == pytest.approx(0.2 / 1.8)
    nine = median_interval([float(v) for v in range(1, 10)])
    assert nine is not None
    # n = 9: [x(2), x(8)] covers the median with 1 - 2 * 10/512 = 96 %; [x(3), x(7)] only 82 %.
    assert (nine["low"], nine["high"]) == (2.0, 8.0)
    assert nine["level"] == pytest.approx(1 - 20 / 512)
    assert median_interval([1.0]) is None


def test_uncertain_means_wider_than_the_precision() -> None:
    from gilwise._results.stats import median_interval, uncertain

    assert not uncertain(median_interval([1.80, 1.85, 1.83, 1.78, 1.86]))
    assert uncertain(median_interval([1.2, 1.85, 1.83, 1.78, 1.86]))
    assert uncertain(None)
