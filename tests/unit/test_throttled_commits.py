"""ThrottledCommits: what is committed, when, and what survives a failed commit."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from streams.commits import ThrottledCommits

A = TopicPartition("t", 0)
B = TopicPartition("t", 1)


class StandInConsumer:
    """Records commits; fails the next one when told to."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []
        self.fail_next = False
        self.during_commit: Any = None

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.during_commit is not None:
            self.during_commit()
            self.during_commit = None
        if self.fail_next:
            self.fail_next = False
            raise CommitFailedError("rebalanced")
        self.commits.append(dict(offsets))


def commits_of(consumer: Any, every: float = 0.0, **kwargs: Any) -> ThrottledCommits:
    return ThrottledCommits(consumer, every=every, name="test", **kwargs)


async def test_commits_the_latest_offset_of_each_partition() -> None:
    consumer = StandInConsumer({A, B})
    reported: list[tuple[TopicPartition, int]] = []
    commits = commits_of(consumer, on_committed=lambda tp, n: reported.append((tp, n)))
    commits.finished({A: 5})
    commits.finished({A: 9, B: 2})
    await commits.commit()
    assert consumer.commits == [{A: 9, B: 2}]
    assert sorted(reported) == [(A, 9), (B, 2)]
    assert not commits


async def test_not_due_until_the_interval_passed() -> None:
    commits = commits_of(StandInConsumer({A}), every=3600)
    commits.finished({A: 1})
    assert commits  # something waits
    assert not commits.due()
    assert not commits_of(StandInConsumer({A})).due()  # nothing to commit is never due


async def test_partitions_given_away_are_not_committed() -> None:
    consumer = StandInConsumer({A})
    commits = commits_of(consumer)
    commits.finished({A: 3, B: 7})
    await commits.commit()
    assert consumer.commits == [{A: 3}]


async def test_a_failed_commit_is_retried_by_the_next_unless_superseded() -> None:
    consumer = StandInConsumer({A, B})
    commits = commits_of(consumer)
    commits.finished({A: 3, B: 7})
    consumer.fail_next = True
    # A batch on A finishes while the commit is on its way: its newer offset
    # wins over the failed 3.
    consumer.during_commit = lambda: commits.finished({A: 4})
    await commits.commit()
    assert consumer.commits == []
    await commits.commit()
    assert consumer.commits == [{A: 4, B: 7}]


async def test_forget_drops_what_is_not_committed() -> None:
    consumer = StandInConsumer({A})
    commits = commits_of(consumer)
    commits.finished({A: 3})
    commits.forget()
    await commits.commit()
    assert consumer.commits == []


@pytest.mark.parametrize("offset", [0, 1, 10_000])
async def test_offsets_are_passed_through_unchanged(offset: int) -> None:
    consumer = StandInConsumer({A})
    commits = commits_of(consumer)
    commits.finished({A: offset})
    await commits.commit()
    assert consumer.commits == [{A: offset}]
