"""deliver_webhooks: first attempts of what lands on ``hookstream.deliveries.<webhookId>``.

Subscribes to every delivery topic by pattern (faust's pattern subscription
is unimplemented; see streams/broker_compat.py), so a topic created for a new
webhook is consumed within ``HOOKSTREAM_TOPIC_REFRESH_SECONDS``.
"""

from __future__ import annotations

from agents.delivery_consumer import DeliveryConsumer
from streams.topics import DELIVERIES_PATTERN


class DeliverWebhooks(DeliveryConsumer):
    name = "deliver_webhooks"

    def subscribe(self) -> None:
        self._consumer.subscribe(pattern=DELIVERIES_PATTERN, listener=self)
