"""The failure-queue function every service with a stream mapping deploys as it is:

    unprocessed:
      handler: shop_streams/handlers/unprocessed.handle
      environment: { BUS_NAME: ..., STAGE: ..., POWERTOOLS_SERVICE_NAME: <service> }
      events: [{ sqs: { arn: <the mappings' on-failure queue>, functionResponseType: ReportBatchItemFailures } }]

What the service's mappings gave up on is read back from its stream and parked as faults
(`shop_streams.unprocessed`).
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shop_envelope import EventFactory
from shop_observability import instrumented
from shop_publisher import EventBridgePublisher

from shop_streams.unprocessed import AwsStreamRecords, UnprocessedRecords


class UnprocessedSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    service: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    stage: str = Field(alias="STAGE", min_length=1)
    bus_name: str = Field(alias="BUS_NAME", min_length=1)
    region: str | None = Field(default=None, alias="AWS_REGION")
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")


settings = UnprocessedSettings.model_validate(dict(os.environ))
unprocessed = UnprocessedRecords(
    events=EventFactory(
        source=settings.service,
        stage=settings.stage,
        region=settings.region,
        function_name=settings.function_name,
    ),
    publisher=EventBridgePublisher(settings.bus_name),
    streams=AwsStreamRecords(region=settings.region),
)


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return unprocessed.process(event)
