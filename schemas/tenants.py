"""Tenants: the platform team's customers. The admin API's input, the record
stored on ``hookstream.tenants`` (key: tenant id) and the public view."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.stored import STORED, known_fields
from schemas.timestamps import iso_from_millis

# The platform's own customer id, used as it is: a Kafka key, a URL path
# segment and a JWT subject, so it keeps to characters all three carry plainly.
TENANT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TENANT_ID_RULE = "1 to 128 of A-Z a-z 0-9 . _ : -"
MAX_METADATA_KEYS = 100


def valid_tenant_id(value: str) -> bool:
    return TENANT_ID.fullmatch(value) is not None


class TenantSpec(BaseModel):
    """What the platform sets on a tenant (the body of PUT /tenants/{id})."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    # Free-form, for the platform's own use (plan, region, ...): stored and
    # shown, never interpreted.
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=MAX_METADATA_KEYS)


class Tenant(TenantSpec):
    id: str
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")
    # Portal tokens issued before this time are refused: the tenant's creation
    # (a re-created tenant id gets no old links back) or its last revoke.
    # Epoch microseconds, compared with the token's issue time.
    portal_valid_after: int = Field(default=0, alias="portalValidAfter")
    # When POST .../portal/revoke last ran (epoch microseconds), for the API view.
    portal_revoked_at: int | None = Field(default=None, alias="portalRevokedAtUs")

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(by_alias=True, mode="json"))

    @classmethod
    def from_json(cls, raw: bytes) -> Tenant:
        data = orjson.loads(raw)
        return cls.model_validate(known_fields(cls, data), context=STORED)

    def public(self) -> dict[str, Any]:
        data = self.model_dump(
            by_alias=True, mode="json", exclude={"portal_valid_after", "portal_revoked_at"}
        )
        revoked = self.portal_revoked_at
        data["portalRevokedAt"] = iso_from_millis(revoked // 1000) if revoked else None
        return data


class PortalLinkSpec(BaseModel):
    """The body of POST /tenants/{id}/portal."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Seconds the token lives: a minute to a week (default a day).
    expires_in: int = Field(default=86400, ge=60, le=7 * 24 * 3600, alias="expiresIn", strict=True)
    read_only: bool = Field(default=False, alias="readOnly", strict=True)
