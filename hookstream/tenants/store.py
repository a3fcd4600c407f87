"""Tenants on the compacted ``hookstream.tenants`` topic, read back from a
:class:`CompactedTable`: created or updated by id (the platform's own
customer id, so PUT is the natural verb), listed a page at a time, and the
"valid after" mark that revokes portal tokens."""

from __future__ import annotations

import time
from typing import Any

from aiokafka.errors import KafkaError

from hookstream import paging
from hookstream.config_writes import write_config
from hookstream.errors import NotFoundError, invalid_field, kafka_unavailable
from hookstream.paging import bad_cursor, decode_cursor, encode_cursor
from schemas.tenants import TENANT_ID_RULE, Tenant, TenantSpec, valid_tenant_id
from schemas.timestamps import utc_now_iso
from streams.publisher import Publisher
from streams.table import CompactedTable

DEFAULT_PAGE = 50
MAX_PAGE = 500


def check_tenant_id(tenant_id: str) -> str:
    if not valid_tenant_id(tenant_id):
        raise invalid_field("tenantId", f"a tenant id is {TENANT_ID_RULE}")
    return tenant_id


def _after(cursor: str) -> str:
    """The id the next page starts after."""
    tenant_id = decode_cursor(cursor)
    if not (isinstance(tenant_id, str) and valid_tenant_id(tenant_id)):
        raise bad_cursor()
    return tenant_id


def parse_limit(raw: str | None) -> int:
    return paging.parse_limit(raw, default=DEFAULT_PAGE, maximum=MAX_PAGE)


class TenantStore:
    def __init__(self, *, table: CompactedTable[Tenant], producer: Publisher) -> None:
        self.table = table
        self._producer = producer

    def find(self, tenant_id: str) -> Tenant | None:
        return self.table.get(tenant_id)

    def get(self, tenant_id: str) -> Tenant:
        found = self.table.get(tenant_id)
        if found is None:
            raise NotFoundError(f"tenant {tenant_id} not found")
        return found

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[Tenant], str | None]:
        """Tenants ordered by id, ``limit`` at a time; the cursor of the next
        page, or None at the end. Ordered by id rather than creation: a page
        stays stable while tenants are created (a new one lands where its id
        sorts, never shifting pages already read)."""
        after = _after(cursor) if cursor is not None else None
        ordered = sorted(
            (tenant for tenant in self.table.values() if after is None or tenant.id > after),
            key=lambda tenant: tenant.id,
        )
        chunk = ordered[:limit]
        more = len(ordered) > limit
        return chunk, (encode_cursor(chunk[-1].id) if more else None)

    async def put(self, tenant_id: str, body: dict[str, Any]) -> tuple[Tenant, bool]:
        """Create or replace; True when it was created."""
        check_tenant_id(tenant_id)
        spec = TenantSpec.model_validate(body)
        now = utc_now_iso()
        current = self.table.get(tenant_id)
        tenant = Tenant(
            **spec.model_dump(),
            id=tenant_id,
            created_at=current.created_at if current else now,
            updated_at=now,
            # A new tenant honours no token issued before it existed: a
            # tenant id deleted and created again (ids are the platform's own
            # customer ids) does not bring its old portal links back.
            portal_valid_after=current.portal_valid_after if current else time.time_ns() // 1000,
            portal_revoked_at=current.portal_revoked_at if current else None,
        )
        await self._store(tenant_id, tenant.to_json())
        return tenant, current is None

    async def revoke_portal(self, tenant_id: str, now_us: int) -> Tenant:
        """Every portal token of the tenant issued before ``now_us`` (epoch
        microseconds) is refused."""
        current = self.get(tenant_id)
        updated = current.model_copy(
            update={
                "portal_valid_after": max(now_us, current.portal_valid_after),
                "portal_revoked_at": now_us,
            }
        )
        await self._store(tenant_id, updated.to_json())
        return updated

    async def delete(self, tenant_id: str) -> None:
        self.get(tenant_id)
        await self._store(tenant_id, None)

    async def _store(self, key: str, value: bytes | None) -> None:
        try:
            await write_config(self._producer, self.table, key, value)
        except KafkaError as exc:
            raise kafka_unavailable(exc) from None
