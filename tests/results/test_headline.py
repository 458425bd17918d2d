"""The headline accessor reads every generation of result rows."""

from __future__ import annotations

from typing import Any

import pytest

from gilwise._results.headline import (
    headline_efficiency,
    headline_interval,
    headline_speedup,
    headline_uncertain,
)
from gilwise._results.stats import median_interval, summary

PAIRED = [1.2, 1.9, 1.5, 1.4, 1.8, 1.6]


def _row(**fields: Any) -> Any:
    base = {"workload": "sqrt_log", "impl": "python", "model": "threads", "workers": 2, "status": "ok"}
    return {**base, **fields}


def test_a_row_written_under_the_contract_is_read_as_stored() -> None:
    # Stored figures that the paired ratios would not give: the accessor must read them as
    # they are, not recompute them (the median of PAIRED is 1.55, its interval another).
    interval = {**median_interval(PAIRED), "low": 1.6, "high": 1.8}
    row = _row(
        speedup=1.7,
        speedup_of_medians=1.31,
        speedup_paired=summary(PAIRED),
        speedup_ci=interval,
        speedup_uncertain=False,
    )
    assert headline_speedup(row) == 1.7
    assert headline_interval(row) == interval
    assert headline_uncertain(row) is False
    assert headline_efficiency(row) == pytest.approx(0.85)


def test_an_older_row_reads_its_headline_and_interval_from_the_paired_ratios() -> None:
    row = _row(speedup=1.31, speedup_paired=summary(PAIRED), efficiency=0.655)
    assert headline_speedup(row) == pytest.approx(1.55)
    assert headline_interval(row) == median_interval(PAIRED)
    assert headline_uncertain(row) is True  # [1.2–1.9] reaches ±23 % of 1.55
    assert headline_efficiency(row) == pytest.approx(0.775)


def test_a_row_without_paired_ratios_has_only_its_ratio_of_medians() -> None:
    row = _row(speedup=1.31)
    assert headline_speedup(row) == 1.31
    assert headline_interval(row) is None


def test_serial_and_unmeasured_rows() -> None:
    serial = _row(model="serial", workers=1, speedup=1.0, speedup_paired=summary([1.0, 1.0, 1.0]))
    assert headline_speedup(serial) == 1.0
    assert headline_interval(serial) is None and headline_uncertain(serial) is False
    unmeasured = _row(status="unavailable", speedup=None, efficiency=None)
    assert headline_speedup(unmeasured) is None and headline_efficiency(unmeasured) is None
    single = _row(speedup=1.5, speedup_of_medians=1.5, speedup_paired=summary([1.5]), speedup_ci=None)
    assert headline_interval(single) is None and headline_uncertain(single) is True
