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
