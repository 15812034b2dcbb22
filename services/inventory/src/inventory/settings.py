"""Each function's settings: one model per function, read from its environment once, at cold
start (`shop_envelope.settings`), so a missing or bad setting fails the first invocation with a
message that names it."""

from __future__ import annotations

from pydantic import Field
from shop_envelope.settings import FunctionSettings

from inventory.model import DEFAULT_HOLD_SECONDS


class InventorySettings(FunctionSettings):
    """What every inventory function needs: where its events go."""

    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where events go.")


class ListenerSettings(InventorySettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    reservation_hold_seconds: int = Field(
        default=DEFAULT_HOLD_SECONDS,
        alias="RESERVATION_HOLD_SECONDS",
        ge=60,
        description="How long a reservation may stay unsettled before the safety net releases it.",
    )


class TriggerSettings(InventorySettings):
    pass


class ExpirySettings(InventorySettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
