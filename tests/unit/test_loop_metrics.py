"""The lock-free metric types expose exactly what prometheus_client's own do."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram

from hookstream.loop_metrics import LoopCounter, LoopHistogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 1, 10)


def samples(registry: CollectorRegistry) -> list[tuple[str, list[tuple[str, str]], float]]:
    return sorted(
        (s.name, sorted(s.labels.items()), s.value)
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    )


amounts = st.lists(
    st.one_of(
        st.sampled_from([*BUCKETS, 0.0, -1.0, math.inf]),
        st.floats(min_value=-5, max_value=50, allow_nan=False),
    ),
    max_size=40,
)


@given(amounts)
def test_a_histogram_counts_as_the_library_does(values: list[float]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopHistogram("h", "h", ["w"], buckets=BUCKETS, registry=ours)
    reference = Histogram("h", "h", ["w"], buckets=BUCKETS, registry=theirs)
    for value in values:
        mine.labels(w="a").observe(value)
        reference.labels(w="a").observe(value)
    assert samples(ours) == samples(theirs)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=20))
def test_a_counter_counts_as_the_library_does(values: list[float]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = LoopCounter("c", "c", ["w"], registry=ours)
    reference = Counter("c", "c", ["w"], registry=theirs)
    for value in values:
        mine.labels(w="a").inc(value)
        reference.labels(w="a").inc(value)
    assert samples(ours) == samples(theirs)


def test_a_counter_still_refuses_to_go_down() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        LoopCounter("c", "c", registry=CollectorRegistry()).inc(-1)


def test_a_labelled_histogram_still_needs_its_labels() -> None:
    histogram = LoopHistogram("h", "h", ["w"], registry=CollectorRegistry())
    with pytest.raises(ValueError, match="missing label values"):
        histogram.observe(1.0)


def test_children_are_kept_and_named_or_positional_calls_reach_the_same_one() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("c", "c", ["webhook", "outcome"], registry=registry)
    assert counter.labels("wh_1", "success") is counter.labels("wh_1", "success")
    counter.labels("wh_1", "success").inc()
    counter.labels(webhook="wh_1", outcome="success").inc()
    counter.labels(outcome="success", webhook="wh_1").inc()
    counter.labels("success", "wh_1").inc()  # another child: positions name the labels
    assert registry.get_sample_value("c_total", {"webhook": "wh_1", "outcome": "success"}) == 3
    assert registry.get_sample_value("c_total", {"webhook": "success", "outcome": "wh_1"}) == 1


def test_a_removed_child_starts_again_from_zero() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("c", "c", ["webhook"], registry=registry)
    counter.labels("wh_1").inc(5)
    counter.remove("wh_1")
    assert registry.get_sample_value("c_total", {"webhook": "wh_1"}) is None
    counter.labels("wh_1").inc()
    assert registry.get_sample_value("c_total", {"webhook": "wh_1"}) == 1
    counter.clear()
    counter.labels("wh_1").inc()
    assert registry.get_sample_value("c_total", {"webhook": "wh_1"}) == 1
