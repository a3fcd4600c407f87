"""What the schemas need from at-rest encryption, declared where it is used.

Stored records seal their secrets on the way to Kafka and open them on the
way back; the implementation (hookstream.secret_box, Fernet) stays out of
schemas so that schemas depend on nothing above them."""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, plaintext: str) -> str: ...

    def open(self, stored: str) -> str: ...
