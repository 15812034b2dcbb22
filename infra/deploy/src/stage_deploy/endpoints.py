"""A deployed stage's endpoints, in the shape of the local cloud's `.localcloud/endpoints.json`
(`http.<service>`, `bus`, `region`, ...), so a client of the local cloud is pointed at a stage by
naming this file instead (`SHOP_ENDPOINTS=.deploy/<stage>/endpoints.json`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENDPOINTS_FILE = "endpoints.json"
# The real Stripe: a stage's stripe-esg speaks to it with the stage's test-mode keys.
STRIPE_API = "https://api.stripe.com"
# The event hub's outputs (infra/event-hub/serverless.yml), under the local cloud's keys.
HUB_OUTPUTS = {
    "bus": "BusName",
    "stream": "StreamName",
    "faults": "FaultTableName",
    "faultQueue": "FaultQueueUrl",
    "eventLake": "EventLakeBucketName",
    "sealingKey": "SealingKeyArn",
}
# The output the Serverless Framework adds to every stack with `httpApi` events.
HTTP_API_URL = "HttpApiUrl"


def stage_endpoints(
    *,
    stage: str,
    region: str,
    account: str,
    outputs: Mapping[str, Mapping[str, str]],
    stripe_publishable_key: str | None,
) -> dict[str, Any]:
    """The endpoints of a stage from each service's stack outputs (`outputs[service]`)."""
    merged: dict[str, str] = {}
    for stack_outputs in outputs.values():
        merged.update(stack_outputs)
    return {
        # No endpoint of its own: boto3 and the SDKs reach AWS where they always do.
        "aws": None,
        "region": region,
        "account": account,
        "stage": stage,
        **{key: merged.get(output) for key, output in HUB_OUTPUTS.items()},
        "stripe": STRIPE_API,
        # What a storefront hands Stripe.js; Stripe's dashboard shows it beside the secret key.
        "stripe_publishable_key": stripe_publishable_key,
        "http": {
            service: stack_outputs[HTTP_API_URL]
            for service, stack_outputs in sorted(outputs.items())
            if HTTP_API_URL in stack_outputs
        },
    }


def endpoints_path(state_dir: Path, stage: str) -> Path:
    return state_dir / stage / ENDPOINTS_FILE


def write_endpoints(state_dir: Path, stage: str, endpoints: Mapping[str, Any]) -> Path:
    """Write `<state_dir>/<stage>/endpoints.json` whole (a reader never sees half of it)."""
    path = endpoints_path(state_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(endpoints, indent=2) + "\n")
    partial.replace(path)
    return path
