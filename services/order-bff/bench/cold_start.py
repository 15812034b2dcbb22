"""Cold start of each order-bff function: a fresh interpreter that loads the handler module (its
settings, the shared libraries, the model, and for graphql strawberry and the schema) and creates
the one AWS client its first invocation needs, against two baselines measured in the same run:

- `import boto3` + that same client. Goal for graphql: at most 2.0x (strawberry and a schema are
  its price for being an API);
- the floor the inventory's bench prints: that baseline plus only the third-party packages every
  function is built on (pydantic's model machinery, Powertools' logger and metrics). Goal for the
  trigger and the listener: at most 1.10x, which they meet only if strawberry stays out of them.

Each process is measured by its CPU time (user + system), the fastest of its runs: on this
two-core machine, shared with other suites, a process's wall time is mostly its wait for a core.
Tracing is off, as outside Lambda (`make bench` runs no X-Ray daemon).
"""

from shop_bench import compare_fresh_processes, report

ENVIRONMENT = (
    "import os; os.environ.update(STAGE='bench', BUS_NAME='bus', TABLE_NAME='table', "
    "SEALING_KEY_ID='alias/sealing', AWS_DEFAULT_REGION='eu-west-1', "
    "POWERTOOLS_SERVICE_NAME='order-bff'); "
)
# The client each function's first invocation creates.
FUNCTIONS = {"graphql": "dynamodb", "trigger": "events", "listener": "dynamodb"}
BOTO3_TARGETS = {"graphql": 2.0}
FLOOR_TARGETS = {"trigger": 1.10, "listener": 1.10}
FOUNDATIONS = (
    "import pydantic.main; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)
RUNS = 10


def baseline(client: str) -> str:
    return f"import boto3; boto3.client({client!r}, region_name='eu-west-1')"


def floor(client: str) -> str:
    return f"{FOUNDATIONS}; {baseline(client)}"


comparisons = []
for function, client in FUNCTIONS.items():
    subject = f"{ENVIRONMENT}import order_bff.handlers.{function}; {baseline(client)}"
    comparisons.append(
        compare_fresh_processes(
            f"{function} + {client} client vs import boto3 + {client} client",
            subject,
            baseline(client),
            runs=RUNS,
            target_ratio=BOTO3_TARGETS.get(function),
            clock="cpu",
        )
    )
    comparisons.append(
        compare_fresh_processes(
            f"{function} + {client} client vs the floor (pydantic + Powertools + {client} client)",
            subject,
            floor(client),
            runs=RUNS,
            target_ratio=FLOOR_TARGETS.get(function),
            clock="cpu",
        )
    )
print(report("order-bff: cold start in a fresh process (CPU time)", comparisons))
