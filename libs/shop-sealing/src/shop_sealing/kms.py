"""The KMS adapter of the sealing port."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from shop_sealing.port import SEALED_PREFIX, Unsealable, encryption_context

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# What KMS answers for a ciphertext it will not decrypt with this key and context. Anything else
# (a missing kms:Decrypt grant, throttling) is the infrastructure failing, not the value.
_REFUSALS = {"InvalidCiphertextException", "IncorrectKeyException"}


class KmsSealer:
    """Seals with `Encrypt` and unseals with `Decrypt` under one symmetric key.

    Decrypt names the key too, as AWS recommends, so a value sealed under another key is refused
    rather than decrypted with whatever key its ciphertext names.
    """

    def __init__(self, key_id: str, client: KMSClient | None = None) -> None:
        self._key_id = key_id
        self._client = client

    @property
    def _kms(self) -> KMSClient:
        if self._client is None:
            self._client = boto3.client("kms")
        return self._client

    def seal(self, plaintext: str, *, field: str, order_id: str) -> str:
        response = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=plaintext.encode(),
            EncryptionContext=encryption_context(field=field, order_id=order_id),
        )
        return SEALED_PREFIX + base64.b64encode(response["CiphertextBlob"]).decode("ascii")

    def unseal(self, sealed: str, *, field: str, order_id: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise Unsealable(field, order_id, "not a sealed value")
        try:
            ciphertext = base64.b64decode(sealed.removeprefix(SEALED_PREFIX), validate=True)
        except binascii.Error as error:
            raise Unsealable(field, order_id, "not base64") from error
        try:
            response = self._kms.decrypt(
                KeyId=self._key_id,
                CiphertextBlob=ciphertext,
                EncryptionContext=encryption_context(field=field, order_id=order_id),
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _REFUSALS:
                raise Unsealable(field, order_id, code) from error
            raise
        return response["Plaintext"].decode()
