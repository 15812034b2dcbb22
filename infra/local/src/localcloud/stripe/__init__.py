"""Stands in for Stripe: a fake Stripe API on localhost that the official `stripe` SDK talks to as
if it were Stripe, and the webhooks Stripe sends.

What it reproduces: PaymentIntents (`payment_intents`: create, retrieve, list, update, confirm,
cancel, automatic payment methods, amount limits), their charges, refunds (`refunds`: whole and
partial), events (`account`: retrieve and list, with `created` filters, pagination and
`expand`), all kept in memory and answered in Stripe's object and error shapes (the SDK picks its
exception class from the HTTP status and error body; `params` has the form encoding and the
validation messages); Idempotency-Key as Stripe honours it; API keys checked as Stripe checks
them (the publishable key only for what Stripe.js does: retrieving and confirming an intent with
its client secret); Stripe's documented test cards (`cards`: `pm_card_visa`, `pm_card_chargeDeclined`, ...),
declines included, so code written against Stripe test mode runs unchanged; and every event sent
to a webhook URL (`webhooks`), signed exactly as Stripe signs (`Stripe-Signature:
t=<ts>,v1=<HMAC-SHA256>`), retried, in order per PaymentIntent. `server.FakeStripe` serves it.

Where it differs, deliberately: no manual capture, 3-D Secure (`requires_action`), customers,
disputes or Connect (a request using them gets an error rather than a silently different
behaviour); webhook retries are seconds apart, not Stripe's hours; one account, in memory, gone
when the fake stops. Why it is our own and not an existing fake: decision 0011.

This package is `localcloud.stripe`; the SDK is always imported absolutely (`import stripe`), which
this package never shadows.
"""

from localcloud.stripe.params import API_VERSION, stripe_signature_header
from localcloud.stripe.server import ApiRequest, FakeStripe
from localcloud.stripe.webhooks import WebhookDelivery

__all__ = ["API_VERSION", "ApiRequest", "FakeStripe", "WebhookDelivery", "stripe_signature_header"]
