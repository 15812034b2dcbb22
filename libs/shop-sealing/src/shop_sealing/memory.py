"""The in-memory adapter of the sealing port, for unit tests: it refuses what KMS refuses."""

from __future__ import annotations

import secrets

from shop_sealing.port import SEALED_PREFIX, Unsealable, encryption_context


class InMemorySealer:
    """Sealed values are random handles to what was sealed, so they carry nothing in clear, and a
    value sealed by another instance (another key) is as foreign as it is to KMS."""

    def __init__(self) -> None:
        self._sealed: dict[str, tuple[str, dict[str, str]]] = {}

    def seal(self, plaintext: str, *, field: str, order_id: str) -> str:
        handle = SEALED_PREFIX + secrets.token_urlsafe(32)
        self._sealed[handle] = (plaintext, encryption_context(field=field, order_id=order_id))
        return handle

    def unseal(self, sealed: str, *, field: str, order_id: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise Unsealable(field, order_id, "not a sealed value")
        if sealed not in self._sealed:
            raise Unsealable(field, order_id, "InvalidCiphertextException")
        plaintext, context = self._sealed[sealed]
        if context != encryption_context(field=field, order_id=order_id):
            raise Unsealable(field, order_id, "InvalidCiphertextException")
        return plaintext
