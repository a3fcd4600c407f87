"""slot_of (streams/membership.py): a topic's partitions spread over the
workers that share the slots round robin."""

from __future__ import annotations

import random
import string

from streams.membership import SLOT_COUNT, slot_of


def topic(rng: random.Random) -> str:
    return "hookstream.deliveries.wh_" + "".join(rng.choices(string.hexdigits.lower(), k=16))


def test_a_topics_partitions_take_consecutive_slots() -> None:
    rng = random.Random(11)
    for _ in range(200):
        name = topic(rng)
        first = slot_of(name, 0)
        assert [slot_of(name, p) for p in range(4)] == [(first + p) % SLOT_COUNT for p in range(4)]


def test_with_slots_dealt_round_robin_every_worker_gets_part_of_every_topic() -> None:
    rng = random.Random(12)
    for workers in (2, 3, 4):
        for _ in range(200):
            name = topic(rng)
            owners = {slot_of(name, p) % workers for p in range(4)}
            assert owners == set(range(workers))
