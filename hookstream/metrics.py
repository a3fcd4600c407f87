"""Every Prometheus metric hookstream exports, defined once.

The registry is injectable so tests read values from a private
``CollectorRegistry``. Label values are bounded: topic names, webhook and
listener ids, outcomes and status codes; never URLs or raw paths. Counters
and histograms are written from the process's event loop only
(hookstream/loop_metrics.py).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hookstream.loop_metrics import LoopCounter, LoopHistogram

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_E2E_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events_consumed = LoopCounter(
            "hookstream_events_consumed", "Domain events consumed", ["topic"], registry=r
        )
        self.invalid_events = LoopCounter(
            "hookstream_invalid_events",
            "Messages sent to hookstream.invalid-events",
            ["topic"],
            registry=r,
        )
        self.deliveries_routed = LoopCounter(
            "hookstream_deliveries_routed",
            "Deliveries fanned out to webhooks",
            ["webhook"],
            registry=r,
        )
        self.events_filtered = LoopCounter(
            "hookstream_events_filtered",
            "Events of a webhook's tenant and event types that its filter kept from it",
            ["webhook"],
            registry=r,
        )
        self.rate_limited = LoopCounter(
            "hookstream_rate_limited",
            "Deliveries that had to wait for their webhook's rateLimit (counted as waits begin)",
            ["webhook"],
            registry=r,
        )
        self.replayed = LoopCounter(
            "hookstream_replayed_deliveries",
            "Deliveries written again by replays (POST /webhooks/{id}/replay)",
            ["webhook"],
            registry=r,
        )
        self.deliveries = LoopCounter(
            "hookstream_deliveries",
            "Delivery attempts by outcome (success, failed, timeout, error, skipped)",
            ["webhook", "outcome"],
            registry=r,
        )
        self.delivery_duration = LoopHistogram(
            "hookstream_delivery_duration_seconds",
            "Duration of one outbound request",
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.delivery_end_to_end = LoopHistogram(
            "hookstream_delivery_end_to_end_seconds",
            "Time on the events topic (Kafka record timestamp) to the 2xx, retries included",
            buckets=_E2E_BUCKETS,
            registry=r,
        )
        self.event_age = LoopHistogram(
            "hookstream_event_age_seconds",
            "The event's own business timestamp to the 2xx (producer clocks included)",
            buckets=_E2E_BUCKETS,
            registry=r,
        )
        self.agent_restarts = LoopCounter(
            "hookstream_agent_restarts",
            "Long-running loops that failed and were restarted",
            ["agent"],
            registry=r,
        )
        self.delivery_log_dropped = LoopCounter(
            "hookstream_delivery_log_dropped",
            "Delivery-log records dropped because the log writer fell behind",
            registry=r,
        )
        self.inbound_log_dropped = LoopCounter(
            "hookstream_inbound_log_dropped",
            "Inbound-log records dropped because the ingress's log writer fell behind",
            registry=r,
        )
        self.retries_scheduled = LoopCounter(
            "hookstream_retries_scheduled",
            "Failed deliveries scheduled for another attempt",
            registry=r,
        )
        self.dead_letters = LoopCounter(
            "hookstream_dead_letters",
            "Deliveries that used up their retry schedule",
            registry=r,
        )
        self.ingress_requests = LoopCounter(
            "hookstream_ingress_requests",
            "Inbound webhook requests",
            ["listener", "status"],
            registry=r,
        )
        self.ingress_verification_failures = LoopCounter(
            "hookstream_ingress_verification_failures",
            "Inbound requests failing verification",
            ["listener"],
            registry=r,
        )
        self.flow_runs = LoopCounter(
            "hookstream_flow_runs",
            "Flow runs by outcome (executed, skipped, failed)",
            ["flow", "status"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "hookstream_consumer_lag",
            "Records not yet processed (high watermark - committed)",
            ["topic", "partition"],
            registry=r,
        )
        self.api_requests = LoopCounter(
            "hookstream_api_requests",
            "Admin API requests",
            ["method", "route", "status"],
            registry=r,
        )

    def report_lag(self, consumer: Any, tp: Any, committed: int) -> None:
        """Lag = high watermark (from fetch responses, right on every broker) - committed."""
        if tp not in consumer.assignment():
            return  # mid-rebalance: the consumer no longer tracks this partition
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lag = max(highwater - committed, 0)
            self.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)
