"""Each function's settings: one model per function, read from its environment once, at cold
start (`shop_envelope.settings`). The environment names the SSM parameters that hold the
secrets, never the secrets themselves. The webhook's settings are `ingress.WebhookSettings`: its
cold start stays clear of pydantic."""

from __future__ import annotations

from pydantic import Field
from shop_envelope.settings import FunctionSettings


class StripeSettings(FunctionSettings):
    """What every function that calls Stripe and publishes needs."""

    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where events go.")
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    api_key_parameter: str = Field(
        alias="STRIPE_API_KEY_PARAMETER",
        min_length=1,
        description="The SSM SecureString holding Stripe's secret API key.",
    )
    api_base: str | None = Field(
        default=None,
        alias="STRIPE_API_BASE",
        description="Where Stripe's API is, when not api.stripe.com (the local cloud's fake).",
    )
    livemode: bool = Field(
        default=False,
        alias="STRIPE_LIVEMODE",
        description="Whether the account's live mode is in use: events of the other mode are refused.",
    )


class ListenerSettings(StripeSettings):
    sealing_key_id: str = Field(
        alias="SEALING_KEY_ID",
        min_length=1,
        description="The event hub's KMS key for sealed fields.",
    )


class WorkerSettings(StripeSettings):
    pass


class PartnerSettings(StripeSettings):
    pass


class ReconcileSettings(StripeSettings):
    pass
