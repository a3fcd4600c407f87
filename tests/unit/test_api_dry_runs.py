"""Dry runs use the ingress's and the worker's own functions (pure parts)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from hookstream.api.dry_runs import flow_under_test, trigger_of
from hookstream.errors import ValidationFailedError
from hookstream.inbound.examine import examine, logged_body, logged_headers
from hookstream.transforms import run_flow
from schemas.listeners import Listener

NOW = 1_800_000_000.0


def listener(**verification: Any) -> Listener:
    return Listener.model_validate(
        {
            "id": "ls_1",
            "name": "l",
            "createdAt": "x",
            "updatedAt": "x",
            "verification": verification or {"type": "none"},
        }
    )


HMAC = {"type": "hmac", "header": "X-Sig", "secret": "s3cret-value", "algorithm": "sha256"}


def signed(body: bytes) -> dict[str, str]:
    return {"X-Sig": hmac.new(b"s3cret-value", body, hashlib.sha256).hexdigest()}


def run(rule: Listener, body: bytes, headers: dict[str, str], content_type: str | None) -> Any:
    return examine(rule, headers, body, content_type=content_type, url_token=None, now=NOW)


def test_accepted_request_is_verified_and_parsed() -> None:
    body = b'{"a": 1}'
    result = run(listener(**HMAC), body, signed(body), "application/json")
    assert (result.status, result.verified, result.reason, result.payload) == (
        202,
        True,
        None,
        {"a": 1},
    )


def test_xml_is_converted_and_no_verification_is_null() -> None:
    result = run(listener(), b"<order><id>7</id></order>", {}, "application/xml")
    assert result.status == 202 and result.verified is None
    assert result.payload == {"order": {"id": "7"}}


@pytest.mark.parametrize(
    ("body", "headers", "content_type", "status", "verified"),
    [
        (b'{"a": 1}', {"X-Sig": "00"}, "application/json", 401, False),
        (b'{"a": 1}', {}, "application/json", 401, False),
        (b"{broken", signed(b"{broken"), "application/json", 400, True),
        (b"x", signed(b"x"), "text/plain", 415, None),
        (b"x", signed(b"x"), None, 415, None),
        (b" " * (1024 * 1024 + 1), {}, "application/json", 413, None),
    ],
)
def test_refusals_match_the_ingress(
    body: bytes, headers: dict[str, str], content_type: str | None, status: int, verified: Any
) -> None:
    result = run(listener(**HMAC), body, headers, content_type)
    assert (result.status, result.verified) == (status, verified)
    assert result.reason and "s3cret-value" not in result.reason


def test_token_in_body() -> None:
    rule = listener(type="token", path="auth.token", token="tok-123")
    ok = run(rule, b'{"auth": {"token": "tok-123"}}', {}, "application/json")
    bad = run(rule, b'{"auth": {"token": "nope"}}', {}, "application/json")
    assert (ok.status, ok.verified) == (202, True)
    assert (bad.status, bad.verified) == (401, False)


def test_log_redaction() -> None:
    rule = listener(**HMAC)
    headers = {"X-Sig": "abc", "Cookie": "c", "Authorization": "Basic x", "X-Other": "kept"}
    assert logged_headers(headers, rule) == {
        "X-Sig": "[redacted]",
        "Cookie": "[redacted]",
        "Authorization": "[redacted]",
        "X-Other": "kept",
    }
    text = logged_body(b'{"leak": "s3cret-value"}' + b"x" * 5000, rule)
    assert "s3cret" not in text and "[redacted]" in text
    assert text.endswith("more characters]") and len(text) < 4200


def test_flow_under_test_fills_placeholders_and_validates() -> None:
    flow = flow_under_test({"mappings": [{"to": "order.id", "from": "data.id"}]})
    outcome = run_flow(flow, trigger_of({"data": {"id": 9}}, flow))
    assert (outcome.status, outcome.output) == ("executed", {"order": {"id": 9}})
    with pytest.raises(ValidationFailedError) as error:
        flow_under_test({"filter": "[[["})
    assert error.value.details[0]["field"] == "flow.filter"
    with pytest.raises(ValidationFailedError) as error:
        flow_under_test({"surprise": 1})
    assert error.value.details[0]["field"] == "flow.surprise"


def test_trigger_or_payload() -> None:
    flow = flow_under_test({})
    whole = trigger_of({"payload": {"a": 1}, "headers": {"X": "y"}}, flow)
    assert whole["payload"] == {"a": 1} and whole["headers"] == {"X": "y"}
    assert whole["listenerId"] == flow.listener_id
    wrapped = trigger_of({"payload": 1, "other": 2}, flow)
    assert wrapped["payload"] == {"payload": 1, "other": 2}
    assert trigger_of([1, 2], flow)["payload"] == [1, 2]
