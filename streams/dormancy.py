"""Dormant partitions: a consumer holding the topics of many webhooks fetches
only the partitions that carry records.

Every fetch names each partition it asks for, and the broker reads each one
(the embedded broker: about 16 µs of CPU per partition per fetch, measured).
Most webhooks are quiet most of the time, so a worker with a few busy
webhooks among many idle ones spent its fetches, and the broker's CPU, on the
idle ones, and its fetch wait grew with the partition count: with 40 idle
webhooks beside a busy one, the busy one's delivery hop went from 12 to
25 ms (p50) at 1 000 events/s.

So a partition with no records for ``DORMANT_AFTER`` seconds and nothing
unfinished is paused ("dormant"). The dormant partitions' end offsets are
asked in one request every :meth:`Dormancy.check_every` (a ListOffsets costs
the broker about half of a fetch per partition, and far less often), and a
partition whose end is past its position is resumed: its first record after
a quiet spell waits at most that long. This module is the bookkeeping; the
consumer (agents/delivery_consumer.py) pauses, asks and resumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiokafka import TopicPartition

DORMANT_AFTER = 5.0
# Check every 0.1 ms per dormant partition, within these bounds: 4 000
# dormant partitions (a thousand idle webhooks) are asked about every 0.4 s.
CHECK_SECONDS_PER_PARTITION = 0.0001
MIN_CHECK_EVERY = 0.1
MAX_CHECK_EVERY = 1.0
# Looking for partitions to put to sleep walks every assigned partition (a
# few microseconds each): at the wake checks' pace, ten times a second, that
# was 12 % of a busy worker's samples with a thousand webhooks. Falling
# asleep a second late costs nothing.
SLEEP_CHECK_EVERY = 1.0


class Dormancy:
    def __init__(self, after: float = DORMANT_AFTER) -> None:
        self._after = after
        self._last_records: dict[TopicPartition, float] = {}
        self._last_sleep_check = float("-inf")
        self.dormant: set[TopicPartition] = set()

    def saw_records(self, tp: TopicPartition, now: float) -> None:
        self._last_records[tp] = now

    def sleep_check_due(self, now: float) -> bool:
        """True at most every SLEEP_CHECK_EVERY seconds: time to look for
        partitions to put to sleep (then call :meth:`to_sleep`)."""
        if now - self._last_sleep_check < SLEEP_CHECK_EVERY:
            return False
        self._last_sleep_check = now
        return True

    def to_sleep(self, candidates: Iterable[TopicPartition], now: float) -> list[TopicPartition]:
        """Of ``candidates`` (partitions that could sleep: assigned, with a
        position, not paused for another reason, nothing unfinished), those
        quiet for long enough. They count as dormant from now on; the caller
        pauses them. A partition first seen now starts its quiet time now."""
        sleepy = []
        for tp in candidates:
            if tp in self.dormant:
                continue
            if now - self._last_records.setdefault(tp, now) >= self._after:
                sleepy.append(tp)
        self.dormant.update(sleepy)
        return sleepy

    def to_wake(
        self,
        ends: Mapping[TopicPartition, int],
        positions: Mapping[TopicPartition, int],
        now: float,
    ) -> list[TopicPartition]:
        """Dormant partitions with records past their position (or no known
        position: waking is always safe). They are awake from now on; the
        caller resumes them."""
        woken = [
            tp
            for tp, end in ends.items()
            if tp in self.dormant and (tp not in positions or end > positions[tp])
        ]
        for tp in woken:
            self.wake(tp, now)
        return woken

    def wake(self, tp: TopicPartition, now: float) -> bool:
        """Wake one partition; False if it was not dormant."""
        if tp not in self.dormant:
            return False
        self.dormant.discard(tp)
        self._last_records[tp] = now
        return True

    def keep_only(self, assigned: set[TopicPartition]) -> None:
        """Forget partitions no longer assigned."""
        self.dormant &= assigned
        for tp in [tp for tp in self._last_records if tp not in assigned]:
            del self._last_records[tp]

    def forget(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Forget ``partitions`` (None: all), e.g. once they are released or resumed."""
        if partitions is None:
            self.dormant.clear()
            self._last_records.clear()
            return
        for tp in partitions:
            self.dormant.discard(tp)
            self._last_records.pop(tp, None)

    def check_every(self) -> float:
        """Seconds between two looks at the dormant partitions' end offsets."""
        wanted = len(self.dormant) * CHECK_SECONDS_PER_PARTITION
        return min(MAX_CHECK_EVERY, max(MIN_CHECK_EVERY, wanted))
