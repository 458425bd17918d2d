"""The schedule is fixed before the clock starts; a mix names paths with relative weights."""

from __future__ import annotations

import itertools

import pytest

from gilwise._exceptions import UsageError
from gilwise._loadgen.coordinator import split_cores
from gilwise._loadgen.histogram import curve_ms, encode, merged, new_histogram, percentile_ms, record_seconds
from gilwise._loadgen.mix import parse_weighted_mix
from gilwise._loadgen.schedule import route_sequence, send_times


def test_constant_arrivals_are_evenly_spaced_and_clients_interleave() -> None:
    one = send_times(100.0, 2.0, "constant", seed=0)
    assert len(one) == 200 and one[1] - one[0] == pytest.approx(0.01)
    two = sorted(
        send_times(50.0, 2.0, "constant", seed=0) + send_times(50.0, 2.0, "constant", seed=1, phase_s=0.01)
    )
    assert len(two) == 200 and max(b - a for a, b in itertools.pairwise(two)) == pytest.approx(0.01)


def test_poisson_arrivals_average_the_rate_and_repeat_with_the_seed() -> None:
    times = send_times(500.0, 10.0, "poisson", seed=3)
    assert 4500 < len(times) < 5500
    assert times == send_times(500.0, 10.0, "poisson", seed=3)


def test_routes_follow_their_weights() -> None:
    picks = route_sequence([3.0, 1.0], 8000, seed=1)
    assert 0.72 < picks.count(0) / 8000 < 0.78


def test_a_mix_takes_paths_shorthands_and_default_weights() -> None:
    assert parse_weighted_mix("/health=1, sessions=3,/x") == {
        "/health": 1.0,
        "/analytics/sessions": 3.0,
        "/x": 1.0,
    }
    for bad in ("", "nope=1", "/a=0", "/a=x", "/a=inf"):
        with pytest.raises(UsageError):
            parse_weighted_mix(bad)


def test_histograms_merge_exactly_across_clients() -> None:
    a, b = new_histogram(), new_histogram()
    for ms in range(1, 101):
        record_seconds(a if ms % 2 else b, ms / 1000)
    total = merged([encode(a), encode(b)])
    assert total.get_total_count() == 100
    assert percentile_ms(total, 99.0) == pytest.approx(99.0, rel=0.01)
    assert percentile_ms(total, 100.0) == pytest.approx(100.0, rel=0.01)
    assert curve_ms(total)[-1][0] == 100.0 and percentile_ms(new_histogram(), 50.0) is None


def test_the_client_gets_cores_of_its_own_only_where_there_are_enough() -> None:
    small = split_cores([0, 1])
    assert not small.pinned and "needs at least 4" in small.describe()
    big = split_cores(list(range(16)))
    assert big.pinned and big.client == [12, 13, 14, 15] and big.server == list(range(12))
