"""``hookstream tenant``: the command line a platform's scripts use to manage
tenants and hand out portal links, against the real API."""

from __future__ import annotations

import asyncio
import os
import sys
from urllib.parse import urlsplit

import orjson

from hookstream.testing.api import ADMIN_TOKEN, ApiClient, ApiServer


async def hookstream(
    api_server: ApiServer, *args: str, token: str = ADMIN_TOKEN
) -> tuple[int, str, str]:
    env = {**os.environ, "HOOKSTREAM_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookstream",
        "tenant",
        *args,
        "--api-url",
        api_server.url,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_put_link_revoke_and_delete_a_tenant(
    api_server: ApiServer, api: ApiClient, unique: str
) -> None:
    tenant_id = f"cli-{unique}"
    code, out, err = await hookstream(api_server, "put", tenant_id, "--name", "Acme")
    assert code == 0, err
    assert orjson.loads(out)["name"] == "Acme"

    code, out, err = await hookstream(api_server, "list")
    assert code == 0, err
    assert tenant_id in [tenant["id"] for tenant in orjson.loads(out)]

    code, out, err = await hookstream(
        api_server, "link", tenant_id, "--read-only", "--expires-in", "600"
    )
    assert code == 0, err
    url = out.strip()
    assert urlsplit(url).path == "/ui/portal", url
    token = urlsplit(url).fragment.removeprefix("token=")
    status, me = await api.call("GET", "/api/v1/whoami", token=token)
    assert status == 200 and me["tenantId"] == tenant_id and me["readOnly"] is True, me

    code, _, err = await hookstream(api_server, "revoke", tenant_id)
    assert code == 0, err
    status, _ = await api.call("GET", "/api/v1/whoami", token=token)
    assert status == 401

    code, out, err = await hookstream(api_server, "delete", tenant_id)
    assert code == 0 and out == "", err
    status, _ = await api.call("GET", f"/api/v1/tenants/{tenant_id}")
    assert status == 404


async def test_errors_are_one_line_and_exit_non_zero(api_server: ApiServer, unique: str) -> None:
    code, out, err = await hookstream(api_server, "show", f"missing-{unique}")
    assert code == 1 and out == ""
    assert err.startswith("hookstream tenant show: HTTP 404"), err

    code, _, err = await hookstream(api_server, "put", f"t-{unique}")
    assert code == 1 and "needs --name" in err, err

    code, _, err = await hookstream(api_server, "list", token="not-a-token")
    assert code == 1 and "HTTP 401" in err, err
