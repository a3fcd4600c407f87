"""GET /api/v1/stats from the real delivery log, dead letters and consumer groups."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from hookstream.testing.api import PUBLISHER_TOKEN, VIEWER_TOKEN, ApiClient, live_webhook
from hookstream.testing.eventually import eventually
from hookstream.testing.processes import WorkerProcess
from hookstream.testing.receiver import Receiver
from streams.topics import ROUTE_GROUP
from tests.conftest import EVENTS_TOPIC, send_event


async def test_stats_count_what_the_worker_did(
    api: ApiClient,
    worker: WorkerProcess,
    receiver: Receiver,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    path = f"/stats-{unique}"
    receiver.scripts[path] = [(500, {})]  # the first attempt fails, the retry succeeds
    webhook = await live_webhook(
        api, worker, name="stats", url=receiver.url + path, events=[f"st.{unique}"]
    )
    status, before = await api.call("GET", "/api/v1/stats")
    assert status == 200, before
    await send_event(
        producer, {"eventId": f"st-{unique}", "eventType": f"st.{unique}", "entityId": "1"}
    )
    await receiver.wait_for(path, 2)

    def mine(report: dict[str, Any]) -> dict[str, Any]:
        return next(w for w in report["webhooks"] if w["webhookId"] == webhook["id"])

    async def counted() -> dict[str, Any] | None:
        status, report = await api.call("GET", "/api/v1/stats", token=VIEWER_TOKEN)
        assert status == 200, report
        return report if mine(report)["last5m"]["attempts"] == 2 else None

    report = await eventually(counted, timeout=30, interval=0.3, message="attempts in stats")
    assert mine(report)["last5m"] == {"attempts": 2, "successes": 1, "successRatio": 0.5}
    assert mine(report)["last60m"]["attempts"] == 2
    assert mine(report)["lastOutcome"] == "success" and mine(report)["lastDeliveryAt"]
    # The hour window, not the five-minute one: a minute boundary between the
    # two reports drops the oldest minute of a window, and the suite runs well
    # under an hour, so only the hour window never loses what ``before`` saw.
    hour, was = report["windows"]["60m"], before["windows"]["60m"]
    assert hour["eventsIn"] >= was["eventsIn"] + 1
    assert hour["retries"] >= was["retries"] + 1
    assert hour["deliveries"]["http_error"] >= was["deliveries"]["http_error"] + 1
    assert hour["deliveries"]["success"] >= was["deliveries"]["success"] + 1
    assert report["windows"]["5m"]["deliveries"]["success"] >= 1
    assert len(report["series"]) == 60
    assert (
        report["series"][-1]["deliveries"]["total"] >= 1
        or report["series"][-2]["deliveries"]["total"] >= 1
    )

    lag = report["consumerLag"]
    assert lag["approximate"] is True and "Tansu" in lag["note"]
    assert "error" not in lag, lag
    routed = [g for g in lag["groups"] if g["group"] == ROUTE_GROUP and g["topic"] == EVENTS_TOPIC]
    assert len(routed) == 1 and routed[0]["lag"] >= 0


async def test_stats_roles(api: ApiClient) -> None:
    status, _ = await api.call("GET", "/api/v1/stats", token=None)
    assert status == 401
    status, body = await api.call("GET", "/api/v1/stats", token=PUBLISHER_TOKEN)
    assert status == 403 and body["error"]["code"] == "forbidden"
