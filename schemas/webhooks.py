"""Webhook subscriptions: the admin API's input, the record stored on
``hookstream.webhooks`` and the public (secret-free) view."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.sealing import Sealer
from schemas.stored import STORED, is_stored, known_fields
from schemas.timestamps import iso_utc
from schemas.whsec import INVALID_WHSEC, acceptable_whsec

ALL_EVENTS = "*"
JSON: Final = "application/json"
FORM: Final = "application/x-www-form-urlencoded"
CLOUDEVENTS: Final = "cloudevents"

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
# Headers hookstream sets itself; a custom header may not override them.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "authorization",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
RESERVED_PREFIX = "x-etl-webhook-"
# A tenant id: 1-128 of [A-Za-z0-9._:-] (DESIGN.md, tenants).
TENANT_ID_PATTERN: Final = r"^[A-Za-z0-9._:-]{1,128}$"

# What a write-only value reads as (the API's view, the delivery log); sent
# back unchanged, it keeps the stored value.
REDACTED_VALUE = "[redacted]"
# A custom header whose name says it carries a credential (X-Api-Key,
# X-Auth-Token, ...) is a secret like ``secret``: sealed at rest, write-only
# in the API, redacted in the delivery log.
_SENSITIVE_NAME = re.compile(
    r"auth|token|key|secret|passw|cookie|session|credential|signature", re.I
)


def is_sensitive_header(name: str) -> bool:
    return _SENSITIVE_NAME.search(name) is not None


def _transform_secrets(data: dict[str, Any], fn: Callable[[str], str]) -> None:
    """Apply ``fn`` (seal or open) to every secret value of a stored record."""
    if isinstance(data.get("secret"), str):
        data["secret"] = fn(data["secret"])
    auth = data.get("basicAuth")
    if isinstance(auth, dict) and isinstance(auth.get("password"), str):
        auth["password"] = fn(auth["password"])
    for previous in data.get("previousSecrets") or []:
        previous["secret"] = fn(previous["secret"])
    headers = data.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if isinstance(value, str) and is_sensitive_header(name):
                headers[name] = fn(value)


class _Model(BaseModel):
    # No str_strip_whitespace: secrets, tokens and header values must stay byte-exact.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BasicAuth(_Model):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=500)

    @field_validator("username")
    @classmethod
    def _no_colon(cls, value: str) -> str:
        if ":" in value:
            raise ValueError("username may not contain ':' (Basic auth separator)")
        return value


class RateLimit(_Model):
    """At most ``requests`` attempts start in any ``perSeconds`` window
    (hookstream/delivery/rate_limit.py)."""

    model_config = ConfigDict(frozen=True)

    requests: int = Field(ge=1, le=100_000, description="attempts that may start per window")
    per_seconds: float = Field(
        alias="perSeconds", gt=0, le=86_400, description="the window, in seconds"
    )


class WebhookSpec(_Model):
    """Everything a user sets on a webhook (the body of POST/PUT)."""

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2048)
    method: Literal["POST", "GET"] = "POST"
    content_type: Literal["application/json", "application/x-www-form-urlencoded"] = Field(
        default=JSON, alias="contentType"
    )
    include_entity: bool = Field(default=False, alias="includeEntity")
    enabled: bool = True
    events: list[str] = Field(default_factory=lambda: [ALL_EVENTS], min_length=1, max_length=500)
    secret: str | None = Field(default=None, min_length=1, max_length=500)
    basic_auth: BasicAuth | None = Field(default=None, alias="basicAuth")
    headers: dict[str, str] = Field(default_factory=dict, max_length=50)
    signature_scheme: Literal["etl", "standard-webhooks"] = Field(
        default="etl", alias="signatureScheme"
    )
    # "etl": the seed's body; "cloudevents": a structured-mode CloudEvent
    # (hookstream/delivery/payloads.py).
    payload_format: Literal["etl", "cloudevents"] = Field(default="etl", alias="payloadFormat")
    description: str = Field(default="", max_length=2000)
    # Most requests in flight to this endpoint at once (spread over its delivery
    # topic's partitions); None: partitions x HOOKSTREAM_DELIVERY_CONCURRENCY.
    concurrency: int | None = Field(default=None, ge=1, le=1000)
    # The tenant whose events alone this webhook receives (the tenant id rule
    # of schemas/tenants.py); None: every event, with or without a tenant.
    tenant_id: str | None = Field(default=None, alias="tenantId", pattern=TENANT_ID_PATTERN)
    # Content filter matched against the event as delivered (hookstream/filters:
    # the API compiles it before storing, so a stored filter is valid).
    content_filter: dict[str, Any] | None = Field(
        default=None,
        alias="filter",
        description=(
            "Only events this filter matches are delivered (docs/subscriptions.md): a "
            "nested object whose leaves are a value or an operator object ($eq $neq $gt "
            "$gte $lt $lte $in $nin $startsWith $endsWith $exist), with $and, $or and $not; "
            "matched against eventId, eventType, entityId, entity, entityUrl, timestamp, "
            "tenantId. At most 16 KiB, 12 levels, 2 000 values. null: every event."
        ),
        examples=[{"entity": {"status": "paid", "total": {"$gte": 100}}}],
    )
    rate_limit: RateLimit | None = Field(
        default=None,
        alias="rateLimit",
        description=(
            "At most `requests` attempts (retries included) start in any `perSeconds` "
            "window; deliveries over it wait, using no attempt. null: no limit."
        ),
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError("url must start with http:// or https://")
        if not parts.hostname:
            raise ValueError("url must name a host")
        if parts.username or parts.password:
            raise ValueError("put credentials in basicAuth, not in the url")
        if parts.fragment:
            raise ValueError("url may not contain a #fragment")
        return value

    @field_validator("events")
    @classmethod
    def _event_list(cls, value: list[str]) -> list[str]:
        cleaned = sorted({item.strip() for item in value})
        if ALL_EVENTS in cleaned and len(cleaned) > 1:
            raise ValueError('use ["*"] alone for all events, or list event types')
        if any(not item or len(item) > 200 for item in cleaned):
            raise ValueError("event types must be 1 to 200 characters")
        return cleaned

    @field_validator("headers")
    @classmethod
    def _custom_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header_value in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"invalid header name {name!r}")
            lowered = name.lower()
            if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIX):
                raise ValueError(f"header {name!r} is set by hookstream and cannot be overridden")
            if "\r" in header_value or "\n" in header_value or len(header_value) > 4000:
                raise ValueError(f"invalid value for header {name!r}")
        return value

    @model_validator(mode="after")
    def _standard_webhooks_secret(self, info: ValidationInfo) -> WebhookSpec:
        secret = self.secret
        if (
            self.signature_scheme == "standard-webhooks"
            and secret
            and not acceptable_whsec(secret, stored=is_stored(info))
        ):
            raise ValueError(INVALID_WHSEC)
        return self

    @model_validator(mode="after")
    def _cloudevents_is_a_json_body(self) -> WebhookSpec:
        # A structured-mode CloudEvent is a JSON request body: a GET has no
        # body, and a form body cannot hold it.
        if self.payload_format == CLOUDEVENTS and (
            self.method == "GET" or self.content_type == FORM
        ):
            raise ValueError(
                'payloadFormat "cloudevents" sends a JSON body: use method POST '
                "and contentType application/json"
            )
        return self


class PreviousSecret(_Model):
    """A replaced secret that still signs until ``expiresAt`` (rotation window)."""

    secret: str
    expires_at: str = Field(alias="expiresAt")


ROTATION_WINDOW = timedelta(hours=24)
MAX_PREVIOUS_SECRETS = 3


class Webhook(WebhookSpec):
    """The stored record: the spec plus what hookstream manages."""

    id: str
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")
    disabled_reason: str | None = Field(default=None, alias="disabledReason")
    previous_secrets: list[PreviousSecret] = Field(default_factory=list, alias="previousSecrets")

    def subscribes_to(self, event_type: str) -> bool:
        return self.events == [ALL_EVENTS] or event_type in self.events

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret first, then replaced ones still inside their window."""
        if self.secret is None:
            return []
        stamp = iso_utc(now)
        return [self.secret] + [p.secret for p in self.previous_secrets if p.expires_at > stamp]

    def rotated_from(self, old: Webhook, now: datetime) -> list[PreviousSecret]:
        """Previous secrets after changing ``old``'s secret to this one's."""
        stamp = iso_utc(now)
        kept = [p for p in old.previous_secrets if p.expires_at > stamp and p.secret != self.secret]
        if old.secret is not None and old.secret != self.secret:
            expires = iso_utc(now + ROTATION_WINDOW)
            kept.insert(0, PreviousSecret(secret=old.secret, expires_at=expires))
        return kept[:MAX_PREVIOUS_SECRETS]

    def to_json(self, box: Sealer | None = None) -> bytes:
        data = self.model_dump(by_alias=True, mode="json")
        if box is not None:
            _transform_secrets(data, box.seal)
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes, box: Sealer | None = None) -> Webhook:
        data = orjson.loads(raw)
        if box is not None:
            _transform_secrets(data, box.open)
        return cls.model_validate(known_fields(cls, data), context=STORED)

    def public(self) -> dict[str, Any]:
        """The API view: secrets are write-only."""
        data = self.model_dump(
            by_alias=True, mode="json", exclude={"secret", "basic_auth", "previous_secrets"}
        )
        data["hasSecret"] = self.secret is not None
        data["headers"] = {
            name: REDACTED_VALUE if is_sensitive_header(name) else value
            for name, value in self.headers.items()
        }
        data["previousSecretExpiresAt"] = max(
            (p.expires_at for p in self.previous_secrets), default=None
        )
        data["basicAuth"] = (
            {"username": self.basic_auth.username, "hasPassword": True} if self.basic_auth else None
        )
        return data
