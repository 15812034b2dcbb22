"""What a deploy cannot do for its deployer: the secrets only the Stripe account's owner has, the
webhook registered in Stripe's dashboard, and the identity provider that signs customers' tokens.
The names here are those the templates use (services/stripe-esg/serverless.yml,
services/order-bff/serverless.yml); the tests hold them to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# stripe-esg's webhook route, and the Stripe event types it ingests (stripe_esg/stripe_types.py).
WEBHOOK_PATH = "/stripe/webhook"
STRIPE_EVENT_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
)
# order-bff's default issuer, the local cloud's: a stage left with it refuses every token.
LOCAL_ISSUER = "https://localcloud.local/"


# The secret a webhook's signature is also checked against while its successor is rolled out.
ROTATING = "the previous signing secret, only while rotating it"


def secret_parameters(stage: str) -> dict[str, str]:
    """stripe-esg's SSM SecureStrings for a stage, by what each holds."""
    prefix = f"/stripe-esg/{stage}"
    return {
        "Stripe's secret key (sk_test_...)": f"{prefix}/api-key",
        "the webhook endpoint's signing secret (whsec_...)": f"{prefix}/webhook-secret",
        ROTATING: f"{prefix}/webhook-secret-previous",
    }


def remaining_steps(
    stage: str, region: str, endpoints: Mapping[str, Any], params: Mapping[str, str]
) -> list[str]:
    """The steps left, in the order to do them, each a paragraph of plain text."""
    secrets = secret_parameters(stage)
    puts = [
        f"     aws ssm put-parameter --region {region} --type SecureString --overwrite"
        f" --name {name} --value '...'   # {meaning}"
        for meaning, name in secrets.items()
        if meaning != ROTATING
    ]
    steps = [
        "Put stripe-esg's secrets in SSM as SecureStrings (read at run time, never in a"
        " template):\n" + "\n".join(puts) + f"\n     ({ROTATING}: {secrets[ROTATING]})"
    ]
    webhook = endpoints.get("http", {}).get("stripe-esg")
    url = f"{webhook}{WEBHOOK_PATH}" if webhook else f"<stripe-esg's HttpApiUrl>{WEBHOOK_PATH}"
    steps.append(
        f"In Stripe's dashboard (test mode), add a webhook endpoint at {url}\n"
        f"     for the events {', '.join(STRIPE_EVENT_TYPES)};\n"
        "     its signing secret is the webhook-secret above."
    )
    issuer = params.get("jwtIssuer", LOCAL_ISSUER)
    if issuer == LOCAL_ISSUER:
        steps.append(
            "order-bff still trusts the local cloud's issuer, so its API refuses every token:"
            " deploy again\n     with your identity provider's issuer and audience, e.g."
            f' make deploy STAGE={stage} PARAMS="jwtIssuer=https://cognito-idp.{region}'
            '.amazonaws.com/<pool id> jwtAudience=<app client id> storefrontOrigin=<https://...>"'
        )
    else:
        steps.append(
            f"Customers sign in with {issuer} (audience {params.get('jwtAudience', '?')}):"
            " get two test customers' tokens for the end-to-end tests (docs/deploy.md)."
        )
    if not endpoints.get("stripe_publishable_key"):
        steps.append(
            "For the end-to-end tests (they pay as Stripe.js does), export STRIPE_PUBLISHABLE_KEY="
            "pk_test_... and deploy again,\n     or put it under stripe_publishable_key in the"
            " endpoints file."
        )
    return steps
