"""stripe-esg: the external service gateway to Stripe. Order events become idempotent Stripe calls;
Stripe's webhooks become authenticated, deduplicated, order-tolerant payment events; no Stripe
object goes past it."""

# The service's name: its stack is `<service>-<stage>`, its functions' POWERTOOLS_SERVICE_NAME.
SERVICE = "stripe-esg"
