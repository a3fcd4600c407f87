"""Standard Webhooks secrets: what counts as one (schemas/whsec.py)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.listeners import Verification
from schemas.whsec import whsec_key


@given(st.binary(min_size=1, max_size=64))
def test_a_whsec_secret_stands_for_its_key(key: bytes) -> None:
    assert whsec_key("whsec_" + base64.b64encode(key).decode()) == key


@pytest.mark.parametrize(
    "secret", ["", "plain", "whsec_", "whsec_abc", "whsec_a b c d", "whsec_ünï==", "WHSEC_AAAA"]
)
def test_anything_else_is_not_one(secret: str) -> None:
    assert whsec_key(secret) is None


def test_a_listener_refuses_a_secret_it_could_not_verify_with() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        Verification(type="standard-webhooks", secret="whsec_abc")
    good = "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert Verification(type="standard-webhooks", secret=good).secret == good
