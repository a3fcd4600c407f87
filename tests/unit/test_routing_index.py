"""The routing index: tenant and event type decide, proportionally to matches."""

from __future__ import annotations

from hookstream.api.backtest import BacktestQuery, summary
from hookstream.api.filters import as_delivered
from hookstream.delivery.matching import RoutingIndex, Subscription, event_document, receives
from hookstream.delivery.payloads import payload_fields
from hookstream.filters import compile_filter
from schemas.deliveries import Delivery
from tests.unit.factories import make_event, make_webhook

API = "https://hooks.example.com"


def ids(found: list[object]) -> list[str]:
    return sorted(w.id for w in found)  # type: ignore[attr-defined]


def test_a_tenant_webhook_receives_only_its_tenants_events() -> None:
    acme = make_webhook(id="acme", tenantId="acme", events=["order.created"])
    globex = make_webhook(id="globex", tenantId="globex", events=["*"])
    everyone = make_webhook(id="all", events=["*"])
    index = RoutingIndex([acme, globex, everyone], api_url=API)
    assert ids(index.lookup("order.created", "acme")) == ["acme", "all"]
    assert ids(index.lookup("order.created", "globex")) == ["all", "globex"]
    assert ids(index.lookup("order.created", None)) == ["all"]
    assert ids(index.lookup("order.paid", "acme")) == ["all"]
    assert ids(index.lookup("order.created", "initech")) == ["all"]


def test_disabled_webhooks_are_not_indexed_and_each_match_comes_once() -> None:
    both = make_webhook(id="both", tenantId="t", events=["a.b", "a.c"])
    off = make_webhook(id="off", events=["*"], enabled=False)
    index = RoutingIndex([both, off], api_url=API)
    assert ids(index.lookup("a.b", "t")) == ["both"]
    assert ids(index.lookup("a.c", "t")) == ["both"]
    assert index.lookup("a.b", None) == []


def test_receives_is_the_same_rule_for_one_webhook() -> None:
    tenant = make_webhook(id="t", tenantId="acme", events=["order.created"])
    event = make_event(tenant_id="acme")
    assert receives(tenant, event)
    assert not receives(tenant, make_event(tenant_id="other"))
    assert not receives(tenant, make_event())
    assert receives(make_webhook(events=["*"]), make_event(tenant_id="x"))


def test_ten_thousand_tenants_each_get_their_own() -> None:
    many = [make_webhook(id=f"wh_{n}", tenantId=f"t{n}", events=["*"]) for n in range(10_000)]
    index = RoutingIndex(many, api_url=API)
    for n in range(0, 10_000, 7):
        assert ids(index.lookup("order.created", f"t{n}")) == [f"wh_{n}"]


def test_filters_run_on_the_candidates_only_and_report_who_filtered() -> None:
    big = make_webhook(id="big", events=["*"], filter={"entity": {"total": {"$gt": 5}}})
    tenant = make_webhook(id="t", tenantId="acme", filter={"tenantId": "acme"})
    plain = make_webhook(id="plain", events=["*"])
    index = RoutingIndex([big, tenant, plain], api_url=API)
    routed = index.route(make_event(entity={"total": 9}, tenant_id="acme"))
    assert ids(routed.matched) == ["big", "plain", "t"]
    routed = index.route(make_event(entity={"total": 1}))
    assert ids(routed.matched) == ["plain"]
    assert ids(routed.filtered) == ["big"]


def test_unchanged_webhooks_keep_their_compiled_filter() -> None:
    big = make_webhook(id="big", filter={"entity": {"total": {"$gt": 5}}})
    first = RoutingIndex([big], api_url=API)
    second = RoutingIndex([big, make_webhook(id="new")], previous=first, api_url=API)
    assert second.candidates("x.y")[0] is first.candidates("x.y")[0]


def test_a_stored_filter_that_does_not_compile_lets_nothing_through() -> None:
    broken = make_webhook(id="b", filter={"x": {"$regex": "a"}})
    assert not Subscription.of(broken).accepts(make_event(), API)
    assert RoutingIndex([broken], api_url=API).route(make_event()).matched == []


def test_a_filter_sees_the_entity_url_every_delivery_carries() -> None:
    event = make_event(event_type="order.created", entity_id="42", tenant_id="acme")
    document = event_document(event, API)
    assert document == {
        "eventId": "e-1",
        "eventType": "order.created",
        "entityId": "42",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "entity": {"id": 42},
        "entityUrl": "https://hooks.example.com/api/v1/entities/order/42",
        "tenantId": "acme",
    }
    webhook = make_webhook(events=["*"])
    delivered = payload_fields(webhook, Delivery.for_event(webhook.id, event), API)
    assert document["entityUrl"] == delivered["entityUrl"]
    # The producer's own entityUrl is the one delivered, and the one seen.
    own = make_event(entity_url="https://shop.example/orders/42")
    assert event_document(own, API)["entityUrl"] == "https://shop.example/orders/42"

    on_entities = make_webhook(
        id="ents", events=["*"], filter={"entityUrl": {"$startsWith": f"{API}/api/v1/entities/"}}
    )
    index = RoutingIndex([on_entities], api_url=API)
    assert ids(index.route(event).matched) == ["ents"]
    assert ids(index.route(own).filtered) == ["ents"]
    assert Subscription.of(on_entities).accepts(event, API)  # replay: the same rule


def test_test_and_backtest_see_what_the_router_sees() -> None:
    wanted = compile_filter({"entityUrl": {"$endsWith": "/entities/order/42"}})
    pasted = {"eventType": "order.created", "entityId": 42}
    assert wanted.matches(as_delivered(pasted, API))
    assert as_delivered({**pasted, "entityUrl": "x"}, API)["entityUrl"] == "x"
    assert as_delivered({"entityId": "1"}, API) == {"entityId": "1"}  # nothing to build it from
    query = BacktestQuery(wanted, ["*"], None, 10)
    result = summary(query, [make_event(entity_id="42"), make_event(entity_id="7")], API)
    assert (result["scanned"], result["matched"]) == (2, 1)
    assert result["examples"][0]["entityUrl"] == f"{API}/api/v1/entities/order/42"
