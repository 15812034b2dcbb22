"""Each function's settings: one model per function, read from its environment once, at cold
start (`shop_envelope.settings`), so a missing or bad setting fails the first invocation with a
message that names it."""

from __future__ import annotations

from pydantic import Field
from shop_envelope.settings import FunctionSettings

from fulfillment_control.model import (
    DEFAULT_CANCELLATION_WINDOW_SECONDS,
    DEFAULT_PAYMENT_WINDOW_SECONDS,
    DEFAULT_RETENTION_SECONDS,
)


class ControlSettings(FunctionSettings):
    """What every function of the service needs: where its events go, and its store."""

    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where events go.")
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    retention_seconds: int = Field(
        default=DEFAULT_RETENTION_SECONDS,
        alias="RETENTION_SECONDS",
        ge=24 * 3600,
        description="How long the store keeps an order's items (their TTL, a clean-up).",
    )


class ListenerSettings(ControlSettings):
    pass


class TriggerSettings(ControlSettings):
    payment_window_seconds: int = Field(
        default=DEFAULT_PAYMENT_WINDOW_SECONDS,
        alias="PAYMENT_WINDOW_SECONDS",
        ge=1,
        description="How long after an order is placed its payment may come.",
    )
    cancellation_window_seconds: int = Field(
        default=DEFAULT_CANCELLATION_WINDOW_SECONDS,
        alias="CANCELLATION_WINDOW_SECONDS",
        ge=1,
        description="How long after a request to cancel an unpaid order a payment may arrive.",
    )
    bus_arn: str = Field(alias="BUS_ARN", min_length=1, description="The timers' target.")
    timer_role_arn: str = Field(
        alias="TIMER_ROLE_ARN", min_length=1, description="The role the scheduler assumes."
    )
    timer_prefix: str = Field(
        alias="TIMER_PREFIX", min_length=1, description="The stack's schedule names begin so."
    )
    timer_dead_letter_arn: str | None = Field(
        default=None, alias="TIMER_DEAD_LETTER_ARN", description="What a timer gives up on."
    )
