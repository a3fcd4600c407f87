"""Inbound bodies → JSON (pure). JSON as is; XML parsed safely (no DTDs, no
entities: billion-laughs and external-entity attacks are refused); form
fields as an object (repeated fields become lists)."""

from __future__ import annotations

import codecs
from typing import Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# Deepest JSON nesting a body may have. The payload is written again, one level
# down, into a flow trigger, and orjson refuses to serialise beyond 254 levels:
# a deeper body must be a 400 here, not a failure when it is stored.
MAX_DEPTH = 128


class UnsupportedContentTypeError(ValueError):
    pass


class UnparseableBodyError(ValueError):
    pass


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_kind(content_type: str | None) -> str:
    """``json``, ``xml`` or ``form``; raise for anything else."""
    media = media_type(content_type)
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    if media == "application/x-www-form-urlencoded":
        return "form"
    raise UnsupportedContentTypeError(
        f"content type {media or '(none)'} is not accepted: use JSON, XML or form encoding"
    )


def charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower-cased, or None."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def _as_utf8(body: bytes, declared: str | None) -> bytes:
    """The body re-encoded as UTF-8 when the sender declared another charset
    (JSON and form bodies; XML declares its encoding itself)."""
    if declared is None or declared in ("utf-8", "utf8", "us-ascii", "ascii"):
        return body
    try:
        text_codec = codecs.lookup(declared)._is_text_encoding  # not rot13, base64, zlib…
    except LookupError:
        text_codec = False
    if not text_codec:
        raise UnparseableBodyError(f"charset {declared!r} is not known")
    try:
        return body.decode(declared).encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise UnparseableBodyError(f"body is not valid {declared}: {exc}") from None


def parse_body(content_type: str | None, body: bytes) -> Any:
    kind = body_kind(content_type)
    if kind != "xml":
        body = _as_utf8(body, charset(content_type))
    if kind == "json":
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UnparseableBodyError(f"body is not valid JSON: {exc}") from None
        # Every array or object opens with one of these bytes (strings may
        # hold more): fewer of them than the limit cannot nest that deep, and
        # counting is C speed where walking every value is Python per node.
        if body.count(b"{") + body.count(b"[") >= MAX_DEPTH:
            _check_depth(value)
        return value
    if kind == "xml":
        return xml_to_json(body)
    return form_to_json(body)


def xml_to_json(body: bytes) -> dict[str, Any]:
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnparseableBodyError(
            f"XML refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except ParseError as exc:
        raise UnparseableBodyError(f"body is not valid XML: {exc}") from None
    # Each element level can become two JSON levels (an object and a list).
    _check_depth(root, limit=MAX_DEPTH // 2, children=list)
    return {_tag(root): _element(root)}


def _json_children(value: Any) -> Any:
    if isinstance(value, dict):
        return value.values()
    return value if isinstance(value, list) else ()


def _check_depth(value: Any, limit: int = MAX_DEPTH, children: Any = _json_children) -> None:
    """Refuse nesting deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kids = children(item)
        if not kids:
            continue
        if depth >= limit:
            raise UnparseableBodyError(f"body is nested deeper than {limit} levels")
        stack.extend((kid, depth + 1) for kid in kids)


def _tag(element: Element) -> str:
    return _local_name(element.tag)


def _local_name(name: str) -> str:
    return name.rsplit("}", 1)[-1]  # drop {namespace}


def _element(element: Element) -> Any:
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    out: dict[str, Any] = {f"@{_local_name(k)}": v for k, v in element.attrib.items()}
    for child in children:
        _add_repeatable(out, _tag(child), _element(child))
    if text:
        out["#text"] = text
    return out


def form_to_json(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnparseableBodyError(f"body is not valid form encoding: {exc}") from None
    out: dict[str, Any] = {}
    for key, value in pairs:
        _add_repeatable(out, key, value)
    return out


def _add_repeatable(out: dict[str, Any], key: str, value: Any) -> None:
    """A repeated form field or XML element becomes a list of its values.
    Appends in place: rebuilding the list per repeat made a 1 MiB body of one
    repeated field cost a minute of CPU (quadratic)."""
    if key not in out:
        out[key] = value
        return
    existing = out[key]
    if isinstance(existing, _Repeated):
        existing.append(value)
    else:
        out[key] = _Repeated((existing, value))


class _Repeated(list[Any]):
    """A list this parser made for repeats (a value that is itself a list,
    e.g. from an earlier repeat, is never appended to by mistake)."""
