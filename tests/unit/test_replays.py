"""Replay records and requests (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, RecordTooLargeError

from agents.replay_webhooks import RETRY_AFTER, describe, retry_after, spread
from hookstream.api.replay_store import replay_range
from hookstream.errors import ValidationFailedError
from schemas.replays import (
    CancelMark,
    Replay,
    cancel_key,
    decode_replay_record,
    partition_key,
    split_partition_key,
)
from schemas.webhooks import RateLimit
from streams.history import TopicDeletedError


def test_records_round_trip_and_cancel_marks_are_told_apart() -> None:
    replay = Replay("rpl_1", "wh_1", "a", "b", "c", "d", positions={"events.x:3": 7})
    assert decode_replay_record(replay.to_json()) == replay
    mark = decode_replay_record(CancelMark("rpl_1", "now").to_json())
    assert mark == CancelMark("rpl_1", "now")
    assert cancel_key("rpl_1") == "rpl_1/cancel"
    assert replay.public(cancelled=True)["status"] == "cancelled"
    assert replay.with_(status="done").public(cancelled=True)["status"] == "done"


def test_partition_keys_survive_dots_and_colons_in_topic_names() -> None:
    assert split_partition_key(partition_key("events.a:b", 12)) == ("events.a:b", 12)


def test_until_is_at_most_now_and_not_before_since() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    since = now - timedelta(days=1)
    assert replay_range(since, None, now) == (
        "2026-12-06T00:00:00.000Z",
        "2026-12-07T00:00:00.000Z",
    )
    assert replay_range(since, now + timedelta(days=3), now)[1] == "2026-12-07T00:00:00.000Z"
    with pytest.raises(ValidationFailedError):
        replay_range(now + timedelta(hours=1), None, now)


def test_passing_kafka_trouble_resumes_a_replay_a_few_times_then_fails_it() -> None:
    trouble = KafkaConnectionError("broker away")
    assert [retry_after(trouble, tries) for tries in (1, 2, 3, 4)] == [*RETRY_AFTER, None]
    assert retry_after(KafkaTimeoutError(), 1) == RETRY_AFTER[0]
    assert retry_after(ConnectionResetError(), 1) == RETRY_AFTER[0]


def test_what_cannot_pass_fails_a_replay_at_once_with_its_reason() -> None:
    gone = TopicDeletedError("topic events.x was deleted while it was being read")
    assert retry_after(gone, 1) is None
    assert describe(gone) == "topic events.x was deleted while it was being read"
    assert retry_after(RecordTooLargeError(), 1) is None
    assert retry_after(KeyError("positions"), 1) is None
    assert describe(KeyError("positions")) == "KeyError: 'positions'"
    assert describe(AssertionError()) == "AssertionError"
    assert describe(RecordTooLargeError()) == "RecordTooLargeError"


def test_replayed_writes_go_out_in_small_groups_at_the_rate() -> None:
    assert spread(200) == RateLimit(requests=10, perSeconds=0.05)
    assert spread(4) == RateLimit(requests=1, perSeconds=0.25)
    assert spread(1 / 60) == RateLimit(requests=1, perSeconds=60)
    for rate in (0.01, 0.5, 3, 19, 20, 200, 5000):
        limit = spread(rate)
        assert limit.requests / limit.per_seconds == pytest.approx(rate)
        assert limit.per_seconds <= max(0.05, 1 / rate) + 1e-9
