"""Dormancy (streams/dormancy.py): which quiet partitions sleep, which wake."""

from __future__ import annotations

from aiokafka import TopicPartition

from streams.dormancy import MAX_CHECK_EVERY, MIN_CHECK_EVERY, SLEEP_CHECK_EVERY, Dormancy

A, B, C = (TopicPartition("hookstream.deliveries.wh", p) for p in range(3))


def test_partitions_sleep_after_a_quiet_spell_counted_from_their_last_records() -> None:
    dormancy = Dormancy(after=5.0)
    assert dormancy.to_sleep([A, B], now=100.0) == []  # first seen: quiet from now
    dormancy.saw_records(B, 103.0)
    assert dormancy.to_sleep([A, B], now=105.0) == [A]
    assert dormancy.to_sleep([A, B], now=107.9) == []  # A already asleep, B quiet 4.9 s
    assert dormancy.to_sleep([A, B], now=108.0) == [B]
    assert dormancy.dormant == {A, B}


def test_only_partitions_with_records_past_their_position_wake() -> None:
    dormancy = Dormancy(after=1.0)
    dormancy.to_sleep([A, B, C], now=0.0)
    assert dormancy.to_sleep([A, B, C], now=1.0) == [A, B, C]
    ends = {A: 10, B: 11, C: 4}
    woken = dormancy.to_wake(ends, {A: 10, B: 10}, now=2.0)  # C has no known position
    assert sorted(woken) == [B, C]
    assert dormancy.dormant == {A}
    # Woken partitions start a new quiet spell.
    assert dormancy.to_sleep([B, C], now=2.5) == []
    assert dormancy.to_sleep([B, C], now=3.0) == [B, C]


def test_woken_by_hand_released_and_reassigned_partitions_are_forgotten() -> None:
    dormancy = Dormancy(after=0.0)
    dormancy.to_sleep([A, B, C], now=0.0)
    assert dormancy.wake(A, now=1.0) and not dormancy.wake(A, now=1.0)
    dormancy.keep_only({A, B})
    assert dormancy.dormant == {B}
    dormancy.forget([B])
    assert dormancy.dormant == set()
    dormancy.to_sleep([A], now=2.0)
    dormancy.forget()
    assert dormancy.dormant == set()


def test_the_check_interval_grows_with_the_dormant_count_within_bounds() -> None:
    dormancy = Dormancy(after=0.0)
    assert dormancy.check_every() == MIN_CHECK_EVERY
    many = [TopicPartition(f"t{n}", 0) for n in range(4000)]
    dormancy.to_sleep(many, now=0.0)
    assert MIN_CHECK_EVERY < dormancy.check_every() <= MAX_CHECK_EVERY
    dormancy.to_sleep([TopicPartition(f"u{n}", 0) for n in range(50_000)], now=0.0)
    assert dormancy.check_every() == MAX_CHECK_EVERY


def test_sleep_checks_come_at_most_every_sleep_check_interval() -> None:
    dormancy = Dormancy()
    assert dormancy.sleep_check_due(100.0)  # the first look is due at once
    assert not dormancy.sleep_check_due(100.0 + SLEEP_CHECK_EVERY / 2)
    assert dormancy.sleep_check_due(100.0 + SLEEP_CHECK_EVERY)
    assert not dormancy.sleep_check_due(100.0 + SLEEP_CHECK_EVERY * 1.5)
