"""The webhook's latency through the local cloud, request to 2xx: Stripe's signed POST through the
local HTTP API, the function's verification and its one SendMessage, against that SendMessage
alone (what the webhook cannot do without), both measured in this run. 200 requests, one at a
time, after the function is warm; p50 and p95 of each.
"""

import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from localcloud.cloud import LocalCloud
from localcloud.stripe import stripe_signature_header
from shop_bench import Comparison, report

ROOT = Path(__file__).resolve().parents[3]
REQUESTS = 200


def percentile(samples: list[float], fraction: float) -> float:
    return statistics.quantiles(samples, n=100)[int(fraction * 100) - 1]


with LocalCloud(
    state_dir=Path(tempfile.mkdtemp(prefix="esg-bench-")),
    serverless=ROOT / "make" / "serverless",
    stripe_webhook="stripe-esg:/stripe/webhook",
) as cloud:
    for stack in ("infra/event-hub", "services/stripe-esg"):
        assert cloud.deploy(ROOT / stack) is not None, cloud.failures
    url = cloud.endpoints()["http"]["stripe-esg"].rstrip("/") + "/stripe/webhook"
    esg = next(s for s in cloud.stacks if s.name == "stripe-esg-local")
    queue_url = esg.outputs["IngressQueueUrl"]
    sqs = cloud.aws.client("sqs")
    secret = cloud.stripe.webhook_secret

    def post(index: int) -> float:
        # An intent no order of ours made: the worker acknowledges it and publishes nothing.
        body = json.dumps(
            {
                "id": f"evt_bench_{index}",
                "object": "event",
                "type": "payment_intent.succeeded",
                "livemode": False,
                "data": {"object": {"object": "payment_intent", "id": "pi_bench", "metadata": {}}},
            }
        ).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature_header(body, secret, int(time.time())),
            },
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status
        return time.perf_counter() - started

    def send(index: int) -> float:
        started = time.perf_counter()
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"id": f"evt_direct_{index}", "type": "customer.created"}),
        )
        return time.perf_counter() - started

    post(-1)  # the cold start is the other benchmark's
    send(-1)
    webhook, direct = [], []
    for index in range(REQUESTS):
        webhook.append(post(index))
        direct.append(send(index))

comparisons = [
    Comparison(
        f"webhook p{int(q * 100)}, request to 2xx vs its SendMessage alone",
        percentile(webhook, q),
        percentile(direct, q),
        unit="ms",
        scale=1000,
    )
    for q in (0.5, 0.95)
]
print(report("stripe-esg: webhook latency through the local cloud", comparisons))
