"""Listener configuration on the compacted ``hookstream.listeners`` topic."""

from __future__ import annotations

import secrets
from typing import Any

from aiokafka import AIOKafkaProducer

from hookstream.api.record_store import RecordStore
from hookstream.errors import invalid_field
from hookstream.inbound.bodies import UnparseableBodyError, xml_to_json
from hookstream.secret_box import SecretBox
from schemas.listeners import PRESETS, TOKEN_TYPES, Listener, ListenerSpec, listener_url
from schemas.timestamps import utc_now_iso
from streams.table import CompactedTable

# Write-only verification fields: omitted keeps the stored value, null clears it.
WRITE_ONLY = ("password", "secret", "token")


def _record(spec: ListenerSpec, **managed: str) -> Listener:
    return Listener.model_validate({**spec.model_dump(by_alias=True), **managed})


def parse_spec(body: dict[str, Any]) -> ListenerSpec:
    """Validate a listener body. Sample data may be given as XML text; it is
    kept as JSON, converted by the same parser the ingress uses."""
    sample = body.get("sampleData")
    if isinstance(sample, str) and sample.lstrip().startswith("<"):
        try:
            body = {**body, "sampleData": xml_to_json(sample.encode())}
        except UnparseableBodyError as exc:
            raise invalid_field("sampleData", str(exc)) from None
    return ListenerSpec.model_validate(body)


def new_listener_id() -> str:
    return "ls_" + secrets.token_hex(8)


class ListenerStore(RecordStore[Listener]):
    kind = "listener"

    def __init__(
        self, *, table: CompactedTable[Listener], producer: AIOKafkaProducer, box: SecretBox
    ) -> None:
        super().__init__(table=table, producer=producer)
        self._box = box

    async def create(self, body: dict[str, Any]) -> Listener:
        spec = parse_spec(body)
        now = utc_now_iso()
        listener = _record(spec, id=new_listener_id(), createdAt=now, updatedAt=now)
        await self._write(listener)
        return listener

    async def replace(self, listener_id: str, body: dict[str, Any]) -> Listener:
        current = self.get(listener_id)
        body = {**body, "verification": self._keep_secrets(current, body.get("verification") or {})}
        return await self._save(current, parse_spec(body))

    async def update(self, listener_id: str, patch: dict[str, Any]) -> Listener:
        current = self.get(listener_id)
        merged = current.model_dump(by_alias=True, include=set(ListenerSpec.model_fields))
        given = patch.get("verification")
        if patch.get("provider") in PRESETS and patch["provider"] != current.provider:
            # A new provider brings its preset: the stored verification (type,
            # header, ...) must not override it, or a listener switched to
            # "github" would keep verifying nothing. Only its secrets carry over.
            # ("custom" has no preset: the stored verification stays.)
            given = given if isinstance(given, dict) else {}
            patch = {**patch, "verification": self._keep_secrets(current, given)}
        elif isinstance(given, dict):
            patch = {**patch, "verification": {**merged["verification"], **given}}
        merged.update(patch)
        return await self._save(current, parse_spec(merged))

    async def generate_url(self, listener_id: str, public_url: str) -> dict[str, Any]:
        """The public URL; for ``secret_url`` and ``token`` a new token too
        (shown only in this response)."""
        current = self.get(listener_id)
        kind = current.verification.type
        if kind not in TOKEN_TYPES:
            return {"url": listener_url(public_url, listener_id)}
        token = secrets.token_urlsafe(24)
        verification = current.verification.model_copy(update={"token": token})
        await self._write(
            current.model_copy(update={"verification": verification, "updated_at": utc_now_iso()})
        )
        if kind == "secret_url":
            return {"url": listener_url(public_url, listener_id, token), "token": token}
        return {
            "url": listener_url(public_url, listener_id),
            "token": token,
            "path": current.verification.path,
        }

    def _keep_secrets(self, current: Listener, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        stored = current.verification.model_dump(by_alias=True)
        return {**{k: stored[k] for k in WRITE_ONLY if k not in given}, **given}

    async def _save(self, current: Listener, spec: ListenerSpec) -> Listener:
        now = utc_now_iso()
        updated = _record(spec, id=current.id, createdAt=current.created_at, updatedAt=now)
        await self._write(updated)
        return updated

    async def _write(self, listener: Listener) -> None:
        await self._store(listener.id, listener.to_json(self._box))
