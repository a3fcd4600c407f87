"""Flow configuration on the compacted ``hookstream.flows`` topic."""

from __future__ import annotations

import secrets
from typing import Any

from aiokafka import AIOKafkaProducer

from hookstream.api.record_store import RecordStore
from hookstream.errors import invalid_field
from schemas.flows import Flow, FlowSpec
from schemas.listeners import Listener
from schemas.timestamps import utc_now_iso
from streams.table import CompactedTable


class FlowStore(RecordStore[Flow]):
    kind = "flow"

    def __init__(
        self,
        *,
        table: CompactedTable[Flow],
        producer: AIOKafkaProducer,
        listeners: CompactedTable[Listener],
    ) -> None:
        super().__init__(table=table, producer=producer)
        self._listeners = listeners

    async def create(self, body: dict[str, Any]) -> Flow:
        now = utc_now_iso()
        return await self._save(FlowSpec.model_validate(body), "fl_" + secrets.token_hex(8), now)

    async def replace(self, flow_id: str, body: dict[str, Any]) -> Flow:
        current = self.get(flow_id)
        return await self._save(FlowSpec.model_validate(body), flow_id, current.created_at)

    async def update(self, flow_id: str, patch: dict[str, Any]) -> Flow:
        current = self.get(flow_id)
        merged = {**current.model_dump(by_alias=True, include=set(FlowSpec.model_fields)), **patch}
        return await self._save(FlowSpec.model_validate(merged), flow_id, current.created_at)

    async def _save(self, spec: FlowSpec, flow_id: str, created_at: str) -> Flow:
        if self._listeners.get(spec.listener_id) is None:
            message = f"listener {spec.listener_id} does not exist"
            raise invalid_field("listenerId", message)
        flow = Flow.model_validate(
            {
                **spec.model_dump(by_alias=True),
                "id": flow_id,
                "createdAt": created_at,
                "updatedAt": utc_now_iso(),
            }
        )
        await self._store(flow.id, flow.to_json())
        return flow
