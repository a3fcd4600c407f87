"""Every Kafka topic hookstream uses: names, partitions and configs, in one place."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

WEBHOOKS = "hookstream.webhooks"
LISTENERS = "hookstream.listeners"
FLOWS = "hookstream.flows"
# Tenants (key: tenant id); the platform's customers, each with its own webhooks.
TENANTS = "hookstream.tenants"
DEAD_LETTERS = "hookstream.dead-letters"
DELIVERY_LOG = "hookstream.delivery-log"
INVALID_EVENTS = "hookstream.invalid-events"
FLOW_TRIGGERS = "hookstream.flow-triggers"
FLOW_EVENTS = "events.flows"
# Where POST /api/v1/events publishes when the request names no topic.
API_EVENTS = "events.api"
# Partitions of an event topic hookstream creates itself (POST /api/v1/events).
EVENT_TOPIC_PARTITIONS = 4
# Not in the DESIGN topic table; they back GET /event-types and GET /entities.
EVENT_TYPES = "hookstream.event-types"
ENTITIES = "hookstream.entities"
# Provider delivery ids the ingress has accepted (dedupe across ingress processes).
INBOUND_SEEN = "hookstream.inbound-seen"
# One record per request to a known listener (key listener id): GET /listeners/{id}/requests.
INBOUND_LOG = "hookstream.inbound-log"
# Replays of webhooks' history (schemas/replays.py): the request and its
# progress (key replay id), and cancel marks (key replay id + "/cancel").
REPLAYS = "hookstream.replays"


# Worker membership: the partitions of this fixed topic ("slots") are shared
# among the worker processes of one role (route, deliver) by that role's
# consumer group; every other partition a worker consumes is owned through
# them (streams/membership.py). It never carries records.
WORKER_SLOTS = "hookstream.worker-slots"
SLOT_COUNT = 64
MEMBERSHIP_GROUP_PREFIX = "hookstream-workers-"


def membership_group(role: str) -> str:
    return MEMBERSHIP_GROUP_PREFIX + role


DELIVERIES_PREFIX = "hookstream.deliveries."
DELIVERIES_PATTERN = r"^hookstream\.deliveries\..+"
RETRIES_PREFIX = "hookstream.retries."

# Consumer groups.
ROUTE_GROUP = "hookstream-route"
DELIVER_GROUP = "hookstream-deliver"
RETRY_GROUP = "hookstream-retry"
WORKER_APP_ID = "hookstream-worker"
FLOWS_GROUP = "hookstream-flows"
# Where faust's run_flows agent committed (faust's app id is its group). A
# group of its own for the new consumer: a broker refuses a join with another
# assignor protocol while it remembers the old one (Tansu does, across
# restarts); run_flows starts from this group's offsets instead.
LEGACY_FLOWS_GROUP = WORKER_APP_ID

# Kafka topic names allow [a-zA-Z0-9._-]; ids we generate stay well inside it.
_TOPIC_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def delivery_topic(webhook_id: str) -> str:
    if not _TOPIC_SAFE.match(webhook_id):
        raise ValueError(f"webhook id not usable in a topic name: {webhook_id!r}")
    return DELIVERIES_PREFIX + webhook_id


def entity_key(entity_type: str, entity_id: str) -> str:
    return f"{entity_type}/{entity_id}"


def retry_topic(delay_label: str) -> str:
    return RETRIES_PREFIX + delay_label


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


COMPACTED = {"cleanup.policy": "compact"}
DAY_MS = 24 * 3600 * 1000
WEEK_MS = str(7 * DAY_MS)
# Dead letters wait for a person to recover them: kept longer than the logs.
DEAD_LETTERS_RETENTION_MS = 30 * DAY_MS


def core_topics(retry_tiers: Iterable[str] = ()) -> list[TopicSpec]:
    """Topics every process expects to exist; created explicitly at start-up
    (auto-created topics get the broker's default partition count)."""
    return [
        *(TopicSpec(retry_topic(label), 4) for label in retry_tiers),
        TopicSpec(WEBHOOKS, 1, COMPACTED),
        TopicSpec(LISTENERS, 1, COMPACTED),
        TopicSpec(FLOWS, 1, COMPACTED),
        TopicSpec(TENANTS, 1, COMPACTED),
        TopicSpec(DEAD_LETTERS, 4, {"retention.ms": str(DEAD_LETTERS_RETENTION_MS)}),
        # Read from the start by every API process: keep it bounded.
        TopicSpec(DELIVERY_LOG, 4, {"retention.ms": WEEK_MS}),
        TopicSpec(INVALID_EVENTS, 1),
        TopicSpec(FLOW_TRIGGERS, 4),
        TopicSpec(FLOW_EVENTS, 4),
        TopicSpec(EVENT_TYPES, 1, COMPACTED),
        TopicSpec(ENTITIES, 4, COMPACTED),
        TopicSpec(INBOUND_SEEN, 1, {"cleanup.policy": "compact,delete", "retention.ms": WEEK_MS}),
        # Read from the start by every API process: kept 7 days.
        TopicSpec(INBOUND_LOG, 4, {"retention.ms": WEEK_MS}),
        # Progress is written every second while a replay runs: read from the
        # start by every API and worker, so kept bounded (a week).
        TopicSpec(REPLAYS, 1, {"cleanup.policy": "compact,delete", "retention.ms": WEEK_MS}),
        TopicSpec(WORKER_SLOTS, SLOT_COUNT),
    ]


# Topics whose records are kept by time (the rest are compacted tables, kept
# whole: the last value of each key is state). Real Kafka applies the configs
# above; the embedded broker keeps everything, so streams/retention.py applies
# this policy to its store.
# Queues: read only by their consumer groups, so the embedded store also
# drops what every group has consumed (streams/queue_trim.py).
QUEUE_PREFIXES = (DELIVERIES_PREFIX, RETRIES_PREFIX)
QUEUE_PATTERN = "^(" + "|".join(re.escape(prefix) for prefix in QUEUE_PREFIXES) + ")"
_TIMED_PREFIXES = QUEUE_PREFIXES
_TIMED_TOPICS = {
    DELIVERY_LOG: int(WEEK_MS),
    INBOUND_LOG: int(WEEK_MS),
    INBOUND_SEEN: int(WEEK_MS),
    INVALID_EVENTS: int(WEEK_MS),
    FLOW_TRIGGERS: int(WEEK_MS),
    DEAD_LETTERS: DEAD_LETTERS_RETENTION_MS,
}


def retention_ms(topic: str, event_topics: re.Pattern[str], event_retention_ms: int) -> int | None:
    """How long the embedded broker keeps ``topic``'s records; None: for ever.

    Event topics (``HOOKSTREAM_EVENT_TOPICS``, ``events.flows`` among them)
    are kept ``HOOKSTREAM_EVENT_RETENTION``: how far back a replay reaches.
    The entities table (``entityUrl``) is kept as long as the events that
    name its entities."""
    if topic in _TIMED_TOPICS:
        return _TIMED_TOPICS[topic]
    if topic.startswith(_TIMED_PREFIXES):
        return int(WEEK_MS)
    if topic in (ENTITIES, FLOW_EVENTS) or event_topics.search(topic):
        return event_retention_ms
    return None
