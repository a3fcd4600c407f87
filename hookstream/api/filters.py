"""Trying a webhook filter before saving it: on one event
(``POST /filters/test``) and on the newest real traffic of the event topics
(``POST /filters/backtest``). Both write nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic import field_validator as validator

from hookstream.api.backtest import BacktestQuery, backtest
from hookstream.api.context import CONTEXT_KEY
from hookstream.api.routes import TENANT_READ, Route
from hookstream.api.tenant_scope import caller_tenant
from hookstream.api.wire import BOOLEAN, INTEGER, STRING, array, nullable, obj
from hookstream.delivery.payloads import entity_url
from hookstream.errors import ValidationFailedError, invalid_field, kafka_unavailable
from hookstream.filters import Filter, FilterError, compile_filter
from hookstream.http_common import json_response, read_json_object, validation_error
from schemas.events import DomainEvent
from schemas.webhooks import ALL_EVENTS, TENANT_ID_PATTERN

MAX_LIMIT = 10_000
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FilterTest(_Strict):
    filter: dict[str, Any]
    event: dict[str, Any]


class Backtest(_Strict):
    filter: dict[str, Any]
    events: list[str] = Field(default_factory=lambda: [ALL_EVENTS], min_length=1, max_length=500)
    tenant_id: str | None = Field(default=None, alias="tenantId", pattern=TENANT_ID_PATTERN)
    limit: int = Field(default=1000, ge=1, le=MAX_LIMIT)

    @validator("events")
    @classmethod
    def _all_alone(cls, value: list[str]) -> list[str]:
        return [ALL_EVENTS] if ALL_EVENTS in value else value


def _compiled(spec: dict[str, Any]) -> Filter:
    try:
        return compile_filter(spec)
    except FilterError as exc:
        raise ValidationFailedError(
            str(exc), details=[{"field": exc.path, "message": exc.message}]
        ) from None


async def _body(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(await read_json_object(request))
    except ValidationError as exc:
        raise validation_error(exc) from None


def as_delivered(event: dict[str, Any], api_url: str) -> dict[str, Any]:
    """A pasted event as the router's filters see it: without an
    ``entityUrl`` of its own, it gets the one hookstream would deliver
    (when it has the ``eventType`` and ``entityId`` to build it from)."""
    event_type, entity_id = event.get("eventType"), event.get("entityId")
    if "entityUrl" in event or not isinstance(event_type, str):
        return event
    if not isinstance(entity_id, str | int) or isinstance(entity_id, bool):
        return event
    stub = DomainEvent(event_id="", event_type=event_type, entity_id=str(entity_id), timestamp="")
    return {**event, "entityUrl": entity_url(stub, api_url)}


async def test_filter(request: web.Request) -> web.Response:
    body = await _body(request, FilterTest)
    api_url = request.app[CONTEXT_KEY].settings.api_url
    matches = _compiled(body.filter).matches(as_delivered(body.event, api_url))
    return json_response({"matches": matches})


async def backtest_filter(request: web.Request) -> web.Response:
    body = await _body(request, Backtest)
    # A portal token tries filters on its own tenant's traffic only: what its
    # webhooks would receive, and no other tenant's events as examples.
    tenant_id = caller_tenant(request)
    if tenant_id is not None and body.tenant_id not in (None, tenant_id):
        raise invalid_field("tenantId", "a portal token backtests its own tenant's events only")
    query = BacktestQuery(
        _compiled(body.filter), body.events, tenant_id or body.tenant_id, body.limit
    )
    settings = request.app[CONTEXT_KEY].settings
    try:
        result = await backtest(
            settings.bootstrap_servers, settings.event_topics, query, api_url=settings.api_url
        )
    except (TimeoutError, OSError, KafkaError) as exc:
        raise kafka_unavailable(exc, "read the event topics") from None
    return json_response(result)


FILTER = {"type": "object", "description": "a webhook filter (see docs/subscriptions.md)"}
EVENT_VIEW = {"type": "object", "description": "a domain event as the filter sees it"}

ROUTES = [
    Route(
        "POST",
        "/api/v1/filters/test",
        test_filter,
        "Does a filter match an event? Writes nothing",
        TENANT_READ,
        {200: obj({"matches": BOOLEAN})},
        request=obj({"filter": FILTER, "event": EVENT_VIEW}, closed=True),
        description=(
            "event is matched as the router would see it: the fields a filter sees are "
            "eventId, eventType, entityId, entity, entityUrl, timestamp and tenantId, and an "
            "event without entityUrl gets the one hookstream delivers "
            "(HOOKSTREAM_API_URL/api/v1/entities/{type}/{entityId}). An invalid filter is a "
            "422 whose details name its path (e.g. filter.entity.total.$gt)."
        ),
    ),
    Route(
        "POST",
        "/api/v1/filters/backtest",
        backtest_filter,
        "Try a filter on the newest records of the event topics; writes nothing",
        TENANT_READ,
        {200: obj({"scanned": INTEGER, "matched": INTEGER, "examples": array(EVENT_VIEW)})},
        request=obj(
            {
                "filter": FILTER,
                "events": {**array(STRING), "description": 'event types; default ["*"]'},
                "tenantId": nullable(STRING),
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            required=["filter"],
            closed=True,
        ),
        errors=(503,),
        description=(
            "The newest `limit` records of each event topic partition are read; of those, "
            "the newest `limit` events of the given types (and tenant, when given: as for "
            "a webhook of that tenant) are tried. scanned is how many were tried, matched "
            "how many the filter lets through; examples are the newest matches (at most 10)."
        ),
    ),
]
