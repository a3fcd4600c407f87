"""Settings parsed from the environment fail fast on bad values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hookstream.settings import WORKER_ROLES, Settings


def test_a_worker_runs_every_role_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOKSTREAM_WORKER_ROLES", raising=False)
    assert Settings().worker_roles == frozenset(WORKER_ROLES)


@pytest.mark.parametrize(
    ("value", "roles"),
    [("route", {"route"}), ("deliver", {"deliver"}), (" route , deliver ", {"route", "deliver"})],
)
def test_roles_are_read_from_a_comma_list(
    monkeypatch: pytest.MonkeyPatch, value: str, roles: set[str]
) -> None:
    monkeypatch.setenv("HOOKSTREAM_WORKER_ROLES", value)
    assert Settings().worker_roles == roles


@pytest.mark.parametrize("value", ["", ",", "route,fly", "flows"])
def test_unknown_or_no_roles_stop_the_process(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HOOKSTREAM_WORKER_ROLES", value)
    with pytest.raises(ValidationError, match="HOOKSTREAM_WORKER_ROLES"):
        Settings()


@pytest.fixture
def no_urls(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("URL", "PORT"):
        for process in ("API", "INGRESS"):
            monkeypatch.delenv(f"HOOKSTREAM_{process}_{name}", raising=False)
    monkeypatch.delenv("HOOKSTREAM_PUBLIC_URL", raising=False)
    monkeypatch.delenv("HOOKSTREAM_BIND_HOST", raising=False)
    return monkeypatch


def test_the_urls_default_to_the_api_and_ingress_addresses(no_urls: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.api_url == "http://127.0.0.1:8000"
    assert settings.public_url == "http://127.0.0.1:8080"


def test_the_default_urls_follow_the_ports(no_urls: pytest.MonkeyPatch) -> None:
    no_urls.setenv("HOOKSTREAM_API_PORT", "38100")
    no_urls.setenv("HOOKSTREAM_INGRESS_PORT", "38180")
    settings = Settings()
    assert settings.api_url == "http://127.0.0.1:38100"
    assert settings.public_url == "http://127.0.0.1:38180"


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("10.1.2.3", "http://10.1.2.3"),
        ("api.internal", "http://api.internal"),
        ("0.0.0.0", "http://127.0.0.1"),
        ("::", "http://127.0.0.1"),
        ("::1", "http://[::1]"),
    ],
)
def test_the_default_urls_follow_the_bind_host(
    no_urls: pytest.MonkeyPatch, host: str, base: str
) -> None:
    no_urls.setenv("HOOKSTREAM_BIND_HOST", host)
    settings = Settings()
    assert settings.api_url == f"{base}:8000"
    assert settings.public_url == f"{base}:8080"


def test_urls_that_are_set_are_kept(no_urls: pytest.MonkeyPatch) -> None:
    no_urls.setenv("HOOKSTREAM_API_PORT", "38100")
    no_urls.setenv("HOOKSTREAM_API_URL", "https://hooks.example.com/admin")
    no_urls.setenv("HOOKSTREAM_PUBLIC_URL", "https://in.example.com")
    settings = Settings()
    assert settings.api_url == "https://hooks.example.com/admin"
    assert settings.public_url == "https://in.example.com"
