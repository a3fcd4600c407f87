"""Encryption of webhook secrets at rest in Kafka (Fernet: AES-128-CBC + HMAC).

The key comes from ``HOOKSTREAM_SECRET_KEY`` (any string; it is stretched to
a Fernet key), or is generated once and kept in ``HOOKSTREAM_DATA_DIR/secret.key``
(mode 0600). Every process that reads or writes webhooks must use the same
key: ``hookstream run`` resolves it once and hands it to its children;
multi-host deployments set ``HOOKSTREAM_SECRET_KEY`` everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "enc:v1:"
KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(key_material.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, stored: str) -> str:
        """Decrypt a sealed value; a value stored before encryption passes through."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret cannot be decrypted: HOOKSTREAM_SECRET_KEY differs from the "
                "key it was written with"
            ) from None


def box_from(configured: str | None, data_dir: Path) -> SecretBox:
    """The configured key, or the one kept in (or created in) ``data_dir``."""
    return SecretBox(configured or load_or_create_key(data_dir))


def load_or_create_key(data_dir: Path, name: str = KEY_FILE) -> str:
    """A random value kept in ``data_dir/name``, created (0600) on first use."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
