"""The exact KMS calls the adapter makes, and how it reads KMS's refusals (botocore Stubber)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from mypy_boto3_kms import KMSClient
from shop_sealing import KmsSealer, Unsealable

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONTEXT = {"field": "payment.clientSecret", "order_id": "order-1"}


@pytest.fixture
def kms() -> KMSClient:
    return boto3.client(
        "kms", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stubber(kms: KMSClient) -> Iterator[Stubber]:
    with Stubber(kms) as stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def test_seal_encrypts_under_the_key_with_the_field_and_order_as_context(
    kms: KMSClient, stubber: Stubber
) -> None:
    # Given
    stubber.add_response(
        "encrypt",
        {"CiphertextBlob": b"\x01\x02ciphertext", "KeyId": KEY},
        {"KeyId": KEY, "Plaintext": b"pi_secret", "EncryptionContext": CONTEXT},
    )

    # When
    sealed = KmsSealer(KEY, client=kms).seal(
        "pi_secret", field="payment.clientSecret", order_id="order-1"
    )

    # Then
    assert sealed == "sealed:v1:" + base64.b64encode(b"\x01\x02ciphertext").decode()


def test_unseal_names_the_key_and_the_context(kms: KMSClient, stubber: Stubber) -> None:
    # Given
    stubber.add_response(
        "decrypt",
        {"Plaintext": b"pi_secret", "KeyId": KEY},
        {"KeyId": KEY, "CiphertextBlob": b"blob", "EncryptionContext": CONTEXT},
    )

    # When
    plaintext = KmsSealer(KEY, client=kms).unseal(
        "sealed:v1:" + base64.b64encode(b"blob").decode(),
        field="payment.clientSecret",
        order_id="order-1",
    )

    # Then
    assert plaintext == "pi_secret"


@pytest.mark.parametrize("code", ["InvalidCiphertextException", "IncorrectKeyException"])
def test_a_value_kms_refuses_is_unsealable(kms: KMSClient, stubber: Stubber, code: str) -> None:
    # Given
    stubber.add_client_error("decrypt", service_error_code=code)

    # When / Then
    with pytest.raises(Unsealable, match=code):
        KmsSealer(KEY, client=kms).unseal(
            "sealed:v1:YmxvYg==", field="payment.clientSecret", order_id="order-1"
        )


def test_a_missing_grant_is_the_infrastructure_failing_not_the_value(
    kms: KMSClient, stubber: Stubber
) -> None:
    # Given
    stubber.add_client_error("decrypt", service_error_code="AccessDeniedException")

    # When / Then: it must alarm as an error, not read as a bad value a customer sent
    with pytest.raises(ClientError, match="AccessDeniedException"):
        KmsSealer(KEY, client=kms).unseal(
            "sealed:v1:YmxvYg==", field="payment.clientSecret", order_id="order-1"
        )


def test_the_client_is_created_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    created: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda name: created.append(name))

    # When
    KmsSealer(KEY)

    # Then
    assert created == []
