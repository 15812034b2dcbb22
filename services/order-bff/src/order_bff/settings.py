"""Each function's settings: one model per function, read from its environment once, at cold
start (`shop_envelope.settings`), so a missing or bad setting fails the first invocation with a
message that names it."""

from __future__ import annotations

from pydantic import Field
from shop_envelope.settings import FunctionSettings


class OrderBffSettings(FunctionSettings):
    """What every BFF function needs: where its events (and faults) go."""

    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where events go.")


class GraphqlSettings(OrderBffSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    sealing_key_id: str = Field(
        alias="SEALING_KEY_ID",
        min_length=1,
        description="The event hub's KMS key that seals the payment's client secret.",
    )


class TriggerSettings(OrderBffSettings):
    pass


class ListenerSettings(OrderBffSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
