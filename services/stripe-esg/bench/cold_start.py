"""Cold start of stripe-esg's functions in a fresh process: each loads its handler module (its
settings, the libraries, the model) and creates the one AWS client its first invocation needs.

- the webhook against `import boto3` + that client (an SQS client): goal at most 1.5x, since
  verifying an HMAC needs neither the Stripe SDK nor pydantic's models, and its handler imports
  neither;
- the listener against the floor every event function stands on (boto3, pydantic's model
  machinery and Powertools' logger and metrics, same client): goal at most 1.10x, so what the
  service adds of its own (its model, the Stripe adapter, whose SDK loads on first call) is small.
Tracing is off, as outside Lambda.
"""

from shop_bench import compare_fresh_processes, report

ENVIRONMENT = (
    "import os; os.environ.update(STAGE='bench', POWERTOOLS_SERVICE_NAME='stripe-esg', "
    "AWS_DEFAULT_REGION='eu-west-1', BUS_NAME='bus', TABLE_NAME='table', QUEUE_URL='q', "
    "WEBHOOK_SECRET_PARAMETER='/p', STRIPE_API_KEY_PARAMETER='/k', SEALING_KEY_ID='k'); "
)
FOUNDATIONS = (
    "import pydantic.main; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)


def client(name: str) -> str:
    return f"import boto3; boto3.client({name!r}, region_name='eu-west-1')"


comparisons = [
    compare_fresh_processes(
        "webhook + sqs client vs import boto3 + sqs client",
        f"{ENVIRONMENT}import stripe_esg.handlers.webhook; {client('sqs')}",
        client("sqs"),
        target_ratio=1.5,
    ),
    compare_fresh_processes(
        "listener + dynamodb client vs the floor (boto3 + pydantic + Powertools + dynamodb client)",
        f"{ENVIRONMENT}import stripe_esg.handlers.listener; {client('dynamodb')}",
        f"{FOUNDATIONS}; {client('dynamodb')}",
        target_ratio=1.10,
    ),
    compare_fresh_processes(
        "worker + dynamodb client vs the same floor",
        f"{ENVIRONMENT}import stripe_esg.handlers.worker; {client('dynamodb')}",
        f"{FOUNDATIONS}; {client('dynamodb')}",
    ),
]
print(report("stripe-esg: cold start in a fresh process", comparisons))
