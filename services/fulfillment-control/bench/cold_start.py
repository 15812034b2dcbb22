"""Cold start of each function: a fresh interpreter that loads the handler module (its settings,
the shared libraries, the rulebook and model) and creates the one AWS client its first
invocation needs, against the floor: one that loads only the third-party packages every function
is built on (pydantic's model machinery, Powertools' logger and metrics) and creates that same
client. What the service and the shared libraries cost of their own is the ratio. Goal: 1.10x.

A last line measures the shared libraries alone (the envelope, streams, publisher, observability)
against the same floor: the part of each function's ratio that is not the service's own.
Tracing is off, as outside Lambda (`make bench` runs no X-Ray daemon).
"""

from shop_bench import compare_fresh_processes, report

ENVIRONMENT = (
    "import os; os.environ.update(STAGE='bench', BUS_NAME='bus', TABLE_NAME='table', "
    "BUS_ARN='arn:aws:events:eu-west-1:123456789012:event-bus/bus', "
    "TIMER_ROLE_ARN='arn:aws:iam::123456789012:role/timers', TIMER_PREFIX='fc-bench-', "
    "AWS_DEFAULT_REGION='eu-west-1', POWERTOOLS_SERVICE_NAME='fulfillment-control', "
    "POWERTOOLS_TRACE_DISABLED='true'); "
)
FUNCTIONS = {"listener": "dynamodb", "trigger": "dynamodb"}
FLOOR = (
    "import pydantic.main; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)
LIBRARIES = (
    "import shop_envelope, shop_envelope.settings, shop_streams, shop_publisher, shop_observability"
)


def client(name: str) -> str:
    return f"import boto3; boto3.client({name!r}, region_name='eu-west-1')"


comparisons = [
    compare_fresh_processes(
        f"{function} + {name} client vs the floor (pydantic + Powertools + {name} client)",
        f"{ENVIRONMENT}import fulfillment_control.handlers.{function}; {client(name)}",
        f"{ENVIRONMENT}{FLOOR}; {client(name)}",
        target_ratio=1.10,
    )
    for function, name in FUNCTIONS.items()
]
comparisons.append(
    compare_fresh_processes(
        "the shared libraries alone vs the same floor",
        f"{ENVIRONMENT}{LIBRARIES}; {client('dynamodb')}",
        f"{ENVIRONMENT}{FLOOR}; {client('dynamodb')}",
    )
)
print(report("fulfillment-control: cold start in a fresh process", comparisons))
