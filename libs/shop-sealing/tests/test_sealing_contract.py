"""One contract for both adapters of the sealing port: KMS (moto in process) and in memory."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from shop_sealing import SEALED_PREFIX, InMemorySealer, KmsSealer, Sealer, Unsealable

CLIENT_SECRET = "pi_3Q_secret_abcdefghijklmnop"
FIELD = "payment.clientSecret"


@pytest.fixture(params=["kms", "memory"])
def sealer(request: pytest.FixtureRequest, aws_credentials: None) -> Iterator[Sealer]:
    if request.param == "memory":
        yield InMemorySealer()
        return
    with mock_aws():
        kms = boto3.client("kms")
        key_arn = kms.create_key(Description="sealing")["KeyMetadata"]["Arn"]
        yield KmsSealer(key_arn, client=kms)


def test_a_sealed_value_carries_nothing_in_clear_and_unseals_for_its_field_and_order(
    sealer: Sealer,
) -> None:
    # When
    sealed = sealer.seal(CLIENT_SECRET, field=FIELD, order_id="order-1")

    # Then
    assert sealed.startswith(SEALED_PREFIX)
    assert CLIENT_SECRET not in sealed
    assert "secret" not in sealed.removeprefix(SEALED_PREFIX)
    assert sealer.unseal(sealed, field=FIELD, order_id="order-1") == CLIENT_SECRET


@pytest.mark.parametrize(
    ("field", "order_id"),
    [(FIELD, "order-2"), ("payment.intentId", "order-1")],
    ids=["another order", "another field"],
)
def test_a_sealed_value_is_refused_outside_its_context(
    sealer: Sealer, field: str, order_id: str
) -> None:
    # Given
    sealed = sealer.seal(CLIENT_SECRET, field=FIELD, order_id="order-1")

    # When / Then
    with pytest.raises(Unsealable, match=f"cannot unseal {field} of order {order_id}"):
        sealer.unseal(sealed, field=field, order_id=order_id)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda sealed: sealed[:-8] + ("A" if sealed[-8] != "A" else "B") + sealed[-7:],
        lambda sealed: sealed.removeprefix(SEALED_PREFIX),
        lambda sealed: SEALED_PREFIX + "not*base64",
        lambda sealed: CLIENT_SECRET,
    ],
    ids=["a changed byte", "no prefix", "not base64", "a value in clear"],
)
def test_a_tampered_or_unsealed_value_is_refused(sealer: Sealer, tamper: object) -> None:
    # Given
    sealed = sealer.seal(CLIENT_SECRET, field=FIELD, order_id="order-1")
    assert callable(tamper)

    # When / Then
    with pytest.raises(Unsealable):
        sealer.unseal(tamper(sealed), field=FIELD, order_id="order-1")


def test_sealing_twice_gives_two_values_that_both_unseal(sealer: Sealer) -> None:
    # When
    first = sealer.seal(CLIENT_SECRET, field=FIELD, order_id="order-1")
    second = sealer.seal(CLIENT_SECRET, field=FIELD, order_id="order-1")

    # Then: nothing about the secret can be learnt by comparing sealed values
    assert first != second
    assert {sealer.unseal(v, field=FIELD, order_id="order-1") for v in (first, second)} == {
        CLIENT_SECRET
    }
