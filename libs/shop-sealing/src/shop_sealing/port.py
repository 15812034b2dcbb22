"""The sealing port: what a producer and a consumer of a sealed field call."""

from __future__ import annotations

from typing import Protocol

# Versioned so that a later scheme (envelope encryption with a data key, say) can be told apart.
SEALED_PREFIX = "sealed:v1:"


class Unsealable(Exception):
    """The value cannot be unsealed here: wrong field or order, tampered with, or not sealed at all."""

    def __init__(self, field: str, order_id: str, reason: str) -> None:
        # The sealed value itself is left out: it is harmless, but long and useless in a log.
        super().__init__(f"cannot unseal {field} of order {order_id}: {reason}")
        self.field = field
        self.order_id = order_id
        self.reason = reason


class Sealer(Protocol):
    def seal(self, plaintext: str, *, field: str, order_id: str) -> str:
        """The value, sealed for this field of this order: a `sealed:v1:` string, safe to publish."""
        ...

    def unseal(self, sealed: str, *, field: str, order_id: str) -> str:
        """The value in clear; raises `Unsealable` unless it was sealed for this field and order."""
        ...


def encryption_context(*, field: str, order_id: str) -> dict[str, str]:
    """KMS binds the ciphertext to these pairs; IAM conditions read them as
    `kms:EncryptionContext:field` and `kms:EncryptionContext:order_id`."""
    return {"field": field, "order_id": order_id}
