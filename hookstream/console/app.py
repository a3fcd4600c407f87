"""The web console at ``/ui/``: one HTML page and static ES modules, served by
the admin API process. No build step: the files in ``static/`` are served as
they are, from memory, under a URL that carries a hash of their content, so
they can be cached for a year and an upgrade is never served stale."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
UI_PATH = "/ui/"
PORTAL_PATH = "/ui/portal"
ASSETS_PATH = "/ui/assets"
INDEX_FILE = "index.html"
ASSETS_MARKER = "{{assets}}"

# Everything from this origin only; no inline script or style anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Assets:
    """Every static file, read once, and the version (content hash) in their URLs."""

    files: dict[str, Asset]
    version: str
    index: bytes

    @classmethod
    def load(cls, root: Path = STATIC_DIR) -> Assets:
        files: dict[str, Asset] = {}
        digest = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if name == INDEX_FILE:
                continue
            body = path.read_bytes()
            kind = TYPES.get(path.suffix) or mimetypes.guess_type(name)[0]
            files[name] = Asset(body, kind or "application/octet-stream")
            digest.update(name.encode() + b"\0" + body + b"\0")
        template = (root / INDEX_FILE).read_text(encoding="utf-8")
        digest.update(template.encode())
        version = digest.hexdigest()[:16]
        index = template.replace(ASSETS_MARKER, f"{ASSETS_PATH}/{version}").encode()
        return cls(files=files, version=version, index=index)


ASSETS_KEY = web.AppKey("console_assets", Assets)


async def index(request: web.Request) -> web.Response:
    assets = request.app[ASSETS_KEY]
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return web.Response(body=assets.index, content_type="text/html", headers=headers)


async def to_console(request: web.Request) -> web.Response:
    raise web.HTTPFound(UI_PATH)


async def asset(request: web.Request) -> web.Response:
    assets = request.app[ASSETS_KEY]
    found = assets.files.get(request.match_info["path"])
    if found is None:
        raise web.HTTPNotFound()
    # An old version (a page loaded before an upgrade) gets today's file, uncached.
    current = request.match_info["version"] == assets.version
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": IMMUTABLE if current else "no-cache",
        "Content-Type": found.content_type,
    }
    return web.Response(body=found.body, headers=headers)


def add_console(app: web.Application) -> None:
    """Serve the console at ``/ui/`` (``/`` redirects there). The auth
    middleware lets paths outside ``/api/`` through without a token; the page
    asks for one and learns its role from ``GET /api/v1/whoami``."""
    app[ASSETS_KEY] = Assets.load()
    app.router.add_get("/", to_console)
    app.router.add_get("/ui", to_console)
    app.router.add_get(UI_PATH, index)
    # A tenant's portal: the same page, in tenant mode (its token arrives in the fragment).
    app.router.add_get(PORTAL_PATH, index)
    app.router.add_get(ASSETS_PATH + "/{version}/{path:.+}", asset)
