"""The routing index: tenant and event type decide, proportionally to matches."""

from __future__ import annotations

from hookstream.delivery.matching import RoutingIndex, receives
from tests.unit.factories import make_event, make_webhook


def ids(found: list[object]) -> list[str]:
    return sorted(w.id for w in found)  # type: ignore[attr-defined]


def test_a_tenant_webhook_receives_only_its_tenants_events() -> None:
    acme = make_webhook(id="acme", tenantId="acme", events=["order.created"])
    globex = make_webhook(id="globex", tenantId="globex", events=["*"])
    everyone = make_webhook(id="all", events=["*"])
    index = RoutingIndex([acme, globex, everyone])
    assert ids(index.lookup("order.created", "acme")) == ["acme", "all"]
    assert ids(index.lookup("order.created", "globex")) == ["all", "globex"]
    assert ids(index.lookup("order.created", None)) == ["all"]
    assert ids(index.lookup("order.paid", "acme")) == ["all"]
    assert ids(index.lookup("order.created", "initech")) == ["all"]


def test_disabled_webhooks_are_not_indexed_and_each_match_comes_once() -> None:
    both = make_webhook(id="both", tenantId="t", events=["a.b", "a.c"])
    off = make_webhook(id="off", events=["*"], enabled=False)
    index = RoutingIndex([both, off])
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
    index = RoutingIndex(many)
    for n in range(0, 10_000, 7):
        assert ids(index.lookup("order.created", f"t{n}")) == [f"wh_{n}"]
