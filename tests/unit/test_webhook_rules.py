from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from hookstream.api.auth import role_for
from hookstream.delivery.matching import RoutingIndex
from hookstream.delivery.retry_schedule import format_duration, parse_schedule
from hookstream.delivery.targets import is_public_address, literal_ip
from hookstream.tokens import parse_tokens
from schemas.webhooks import Webhook, WebhookSpec
from tests.unit.factories import make_webhook

API = "http://127.0.0.1:8000"


def test_matching_respects_enabled_and_event_list() -> None:
    specific = make_webhook(id="a", events=["order.created"])
    everything = make_webhook(id="b", events=["*"])
    disabled = make_webhook(id="c", events=["*"], enabled=False)
    index = RoutingIndex([specific, everything, disabled], api_url=API)
    assert [w.id for w in index.lookup("order.created")] == ["a", "b"]
    assert [w.id for w in index.lookup("x.y")] == ["b"]


def test_spec_defaults_follow_the_seed() -> None:
    spec = WebhookSpec.model_validate({"name": "n", "url": "https://x.example/h"})
    assert spec.method == "POST"
    assert spec.content_type == "application/json"
    assert spec.events == ["*"]
    assert spec.enabled is True and spec.include_entity is False


def test_method_is_case_insensitive() -> None:
    assert (
        WebhookSpec.model_validate({"name": "n", "url": "https://x/h", "method": "get"}).method
        == "GET"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "https://user:pw@x.example/h"},
        {"url": "https://x.example/h#frag"},
        {"headers": {"Content-Type": "text/plain"}},
        {"headers": {"X-Ok": "a\r\nInjected: 1"}},
        {"basicAuth": {"username": "a:b", "password": "p"}},
        {"signatureScheme": "standard-webhooks", "secret": "plain"},
        # whsec_ but no key: accepted once, then every attempt raised at signing.
        {"signatureScheme": "standard-webhooks", "secret": "whsec_abc"},
        {"signatureScheme": "standard-webhooks", "secret": "whsec_"},
        {"signatureScheme": "standard-webhooks", "secret": "whsec_not base64!"},
    ],
)
def test_spec_rejects(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WebhookSpec.model_validate({"name": "n", "url": "https://x.example/h", **bad})


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_literal_ip_detection() -> None:
    assert literal_ip("[::1]") == "::1"
    assert literal_ip("10.0.0.1") == "10.0.0.1"
    assert literal_ip("example.com") is None


def test_tokens_and_roles() -> None:
    tokens = parse_tokens("a1:admin, v1:viewer")
    assert role_for(tokens, "a1") == "admin"
    assert role_for(tokens, "v1") == "viewer"
    assert role_for(tokens, "nope") is None
    assert role_for(tokens, "a\udcff") is None  # header bytes not UTF-8: 401, not a 500
    for bad in ("", "tok", "tok:root", ":admin"):
        with pytest.raises(ValueError, match="HOOKSTREAM_API_TOKENS"):
            parse_tokens(bad)


def test_retry_schedule_parsing() -> None:
    assert parse_schedule("5s,1m,5m,30m,2h,8h,24h") == (5, 60, 300, 1800, 7200, 28800, 86400)
    assert parse_schedule("") == ()
    assert format_duration(7200) == "2h" and format_duration(0.5) == "500ms"
    with pytest.raises(ValueError, match="duration"):
        parse_schedule("5 parsecs")


def test_a_stored_record_from_a_newer_version_is_still_read() -> None:
    webhook = make_webhook(concurrency=64)
    stored = orjson.loads(webhook.to_json())
    stored["someFieldOfANewerVersion"] = {"x": 1}
    read = Webhook.from_json(orjson.dumps(stored))
    assert read == webhook
    assert read.concurrency == 64


def test_the_api_still_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        WebhookSpec.model_validate(
            {"name": "n", "url": "https://example.com/h", "someFieldOfANewerVersion": 1}
        )


@pytest.mark.parametrize("concurrency", [0, 1001, "many"])
def test_concurrency_is_bounded(concurrency: object) -> None:
    with pytest.raises(ValidationError):
        WebhookSpec.model_validate(
            {"name": "n", "url": "https://example.com/h", "concurrency": concurrency}
        )
