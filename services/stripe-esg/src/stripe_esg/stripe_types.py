"""The Stripe event types this service ingests; every other type is acknowledged and ignored.
A module of its own, standard library only, because the webhook's cold start imports it."""

INGESTED_TYPES = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
    }
)
