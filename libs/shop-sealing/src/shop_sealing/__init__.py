"""Sealed fields: a value of an event that only one consumer may read, encrypted by its producer.

Events are facts kept for years (the event lake) and seen by every consumer, so a secret never
travels in clear. The producer seals the value with KMS under the key the event hub stack owns and
exports; the encryption context names the field and the order, so a sealed value copied into
another field or another order cannot be unsealed there, and a key policy or IAM condition can
allow a role to seal or unseal one field only. The consumer keeps the value sealed at rest and
unseals it at the moment it must be shown (decision 0013).
"""

from shop_sealing.kms import KmsSealer
from shop_sealing.memory import InMemorySealer
from shop_sealing.port import SEALED_PREFIX, Sealer, Unsealable, encryption_context

__all__ = [
    "SEALED_PREFIX",
    "InMemorySealer",
    "KmsSealer",
    "Sealer",
    "Unsealable",
    "encryption_context",
]
