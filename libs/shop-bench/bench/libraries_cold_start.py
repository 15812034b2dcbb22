"""Cold import of the shared libraries: a fresh process that imports envelope, publisher, stream
processing and observability and creates one boto3 client, against one that only imports boto3
and creates the same client. Goal: at most 1.4x.

A second line shows the floor under that figure: the same baseline plus only the third-party
packages the libraries are built on (pydantic's model machinery and Powertools' logger and metrics),
so what the libraries' own code costs is the difference between the two lines.
"""

from shop_bench import compare_fresh_processes, report

BASELINE = "import boto3; boto3.client('events', region_name='eu-west-1')"
LIBRARIES = "import shop_envelope, shop_publisher, shop_streams, shop_observability"
FOUNDATIONS = (
    "import pydantic.main; from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)

print(
    report(
        "libs: cold start in a fresh process",
        [
            compare_fresh_processes(
                "libraries + boto3 client vs import boto3 + client",
                f"{LIBRARIES}; {BASELINE}",
                BASELINE,
                target_ratio=1.4,
            ),
            compare_fresh_processes(
                "floor: pydantic + Powertools only, same baseline",
                f"{FOUNDATIONS}; {BASELINE}",
                BASELINE,
            ),
        ],
    )
)
