"""Cold start of each inventory function: a fresh interpreter that loads the handler module (its
settings, the shared libraries, the model) and creates the one AWS client its first invocation
needs, against one that only imports boto3 and creates that same client. Goal: at most 1.4x.

The floor line is the same baseline plus only the third-party packages every function is built
on (pydantic's model machinery and Powertools' logger and metrics): what the inventory and the
shared libraries cost of their own is the distance between a function's line and the floor.
Tracing is off, as outside Lambda (`make bench` runs no X-Ray daemon).
"""

from shop_bench import compare_fresh_processes, report

ENVIRONMENT = (
    "import os; os.environ.update(STAGE='bench', BUS_NAME='bus', TABLE_NAME='table', "
    "AWS_DEFAULT_REGION='eu-west-1', POWERTOOLS_SERVICE_NAME='inventory'); "
)
FUNCTIONS = {"listener": "dynamodb", "trigger": "events", "expiry": "dynamodb"}
FOUNDATIONS = (
    "import pydantic.main; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)


def baseline(client: str) -> str:
    return f"import boto3; boto3.client({client!r}, region_name='eu-west-1')"


comparisons = [
    compare_fresh_processes(
        f"{function} + {client} client vs import boto3 + {client} client",
        f"{ENVIRONMENT}import inventory.handlers.{function}; {baseline(client)}",
        baseline(client),
        target_ratio=1.4,
    )
    for function, client in FUNCTIONS.items()
]
comparisons.append(
    compare_fresh_processes(
        "floor: pydantic + Powertools only, same baseline",
        f"{FOUNDATIONS}; {baseline('dynamodb')}",
        baseline("dynamodb"),
    )
)
print(report("inventory: cold start in a fresh process", comparisons))
