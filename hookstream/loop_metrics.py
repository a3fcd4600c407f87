"""Prometheus counters and histograms for code that updates them from one
event loop.

prometheus_client guards every value with a lock, for threaded writers.
hookstream's processes write their metrics from their asyncio loop's thread
only (a scrape only reads), and a delivery updates about ten values: the
locks and the histogram's linear bucket scan were 3-4 % of a worker's CPU.
These are the library's own metric types with a plain float per value and
a binary search for the bucket; exposition is the library's, unchanged.
Each also keeps its labelled children: ``labels()`` costs a lock and a
tuple of strings per call, and is called per delivery and per request.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from prometheus_client import Counter, Histogram


class LoopValue:
    """The interface of prometheus_client's ``MutexValue``, without the lock."""

    __slots__ = ("_exemplar", "_value")

    def __init__(self, *_description: Any, **_options: Any) -> None:
        self._value = 0.0
        self._exemplar: Any = None

    def inc(self, amount: float) -> None:
        self._value += amount

    def set(self, value: float, timestamp: float | None = None) -> None:
        self._value = value

    def set_exemplar(self, exemplar: Any) -> None:
        self._exemplar = exemplar

    def get(self) -> float:
        return self._value

    def get_exemplar(self) -> Any:
        return self._exemplar


class _KeptChildren:
    """``labels()`` from a dict of the children already asked for."""

    _kept: dict[Any, Any]

    def labels(self, *values: Any, **named: Any) -> Any:
        # Named and positional calls are kept apart: the same strings in
        # another order name another child.
        key = values if values else tuple(named.items())
        kept = self.__dict__.setdefault("_kept", {})
        child = kept.get(key)
        if child is None:
            child = kept[key] = super().labels(*values, **named)  # type: ignore[misc]
        return child

    def remove(self, *values: Any) -> None:
        self.__dict__.pop("_kept", None)
        super().remove(*values)  # type: ignore[misc]

    def clear(self) -> None:
        self.__dict__.pop("_kept", None)
        super().clear()  # type: ignore[misc]


class LoopCounter(_KeptChildren, Counter):
    def _metric_init(self) -> None:
        super()._metric_init()
        self._value = LoopValue()


class LoopHistogram(_KeptChildren, Histogram):
    def _metric_init(self) -> None:
        super()._metric_init()
        self._sum = LoopValue()
        self._buckets = [LoopValue() for _ in self._upper_bounds]

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        if exemplar or amount != amount:  # noqa: PLR0124 - NaN: the library's own path
            super().observe(amount, exemplar)
            return
        self._raise_if_not_observable()  # type: ignore[no-untyped-call]
        self._sum._value += amount
        # The first bucket whose bound is >= amount (the last bound is +Inf).
        self._buckets[bisect_left(self._upper_bounds, amount)]._value += 1
