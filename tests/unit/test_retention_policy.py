"""Which topics the embedded broker trims, and which batches (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hookstream.api.dashboard import embedded_storage
from hookstream.settings import Settings
from streams.object_store import STORE_DIR
from streams.retention import expired
from streams.store_objects import StoredBatch
from streams.topics import (
    DEAD_LETTERS,
    DELIVERY_LOG,
    ENTITIES,
    FLOW_EVENTS,
    LISTENERS,
    WEBHOOKS,
    WEEK_MS,
    delivery_topic,
    retention_ms,
    retry_topic,
)

EVENTS = re.compile(r"^events\..+")
DAY = 86_400_000


def test_logs_and_queues_are_kept_a_week_and_dead_letters_longer() -> None:
    for topic in (DELIVERY_LOG, delivery_topic("w1"), retry_topic("5m")):
        assert retention_ms(topic, EVENTS, DAY) == int(WEEK_MS)
    dead = retention_ms(DEAD_LETTERS, EVENTS, DAY)
    assert dead is not None
    assert dead > int(WEEK_MS)


def test_event_topics_and_entities_follow_the_event_retention() -> None:
    for topic in ("events.orders", FLOW_EVENTS, ENTITIES):
        assert retention_ms(topic, EVENTS, 3 * DAY) == 3 * DAY


def test_tables_and_other_topics_are_kept_whole() -> None:
    for topic in (WEBHOOKS, LISTENERS, "someone.elses"):
        assert retention_ms(topic, EVENTS, DAY) is None


def test_the_setting_reads_durations() -> None:
    assert Settings(event_retention="36h").retention_ms("events.x") == 36 * 3_600_000
    assert Settings().retention_ms("events.x") == 7 * DAY


def test_only_batches_older_than_the_cutoff_go_and_never_the_newest() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    batches = [StoredBatch(f"k{i}", now - timedelta(hours=10 - i)) for i in range(5)]
    assert [b.key for b in expired(batches, now - timedelta(hours=7, minutes=30))] == [
        "k0",
        "k1",
        "k2",
    ]
    assert [b.key for b in expired(batches, now + timedelta(days=1))] == ["k0", "k1", "k2", "k3"]
    assert expired(batches[:1], now + timedelta(days=1)) == []
    assert expired([], now) == []


def test_stats_report_the_embedded_data_dir_and_its_size(tmp_path: Path) -> None:
    assert embedded_storage(tmp_path) is None  # no embedded store here: another Kafka
    store = tmp_path / STORE_DIR
    store.mkdir()
    (store / "000000000001.log").write_bytes(b"x" * 10_000)
    report = embedded_storage(tmp_path)
    assert report is not None
    assert report["dataDir"] == str(tmp_path.resolve())
    assert report["bytes"] >= 10_000
