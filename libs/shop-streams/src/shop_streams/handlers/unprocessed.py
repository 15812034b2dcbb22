"""The failure-queue function every service with a stream mapping deploys as it is:

    unprocessed:
      handler: shop_streams/handlers/unprocessed.handle
      environment: { BUS_NAME: ..., STAGE: ..., POWERTOOLS_SERVICE_NAME: <service> }
      events: [{ sqs: { arn: <the mappings' on-failure queue>, functionResponseType: ReportBatchItemFailures } }]

What the service's mappings gave up on is read back from its stream and parked as faults
(`shop_streams.unprocessed`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from shop_envelope.settings import FunctionSettings
from shop_observability import instrumented
from shop_publisher import EventBridgePublisher

from shop_streams.unprocessed import AwsStreamRecords, UnprocessedRecords


class UnprocessedSettings(FunctionSettings):
    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where the faults go.")


settings = UnprocessedSettings.from_environment()
unprocessed = UnprocessedRecords(
    events=settings.event_factory(),
    publisher=EventBridgePublisher(settings.bus_name),
    streams=AwsStreamRecords(region=settings.region),
)


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return unprocessed.process(event)
