"""The webhook function's settings, read from its environment once, at cold start: standard
library only, like everything the webhook imports (its cold start is measured against
`import boto3` and one client, `make bench`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self


class WebhookMisconfigured(RuntimeError):
    """A setting the webhook cannot start without is missing; says which."""


@dataclass(frozen=True)
class WebhookSettings:
    service: str
    stage: str
    queue_url: str
    webhook_secret_parameter: str
    previous_webhook_secret_parameter: str | None = None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environment is None else environment
        missing = [
            name
            for name in (
                "POWERTOOLS_SERVICE_NAME",
                "STAGE",
                "QUEUE_URL",
                "WEBHOOK_SECRET_PARAMETER",
            )
            if not env.get(name)
        ]
        if missing:
            raise WebhookMisconfigured(
                f"WebhookSettings from the environment: missing {', '.join(missing)}"
            )
        return cls(
            service=env["POWERTOOLS_SERVICE_NAME"],
            stage=env["STAGE"],
            queue_url=env["QUEUE_URL"],
            webhook_secret_parameter=env["WEBHOOK_SECRET_PARAMETER"],
            previous_webhook_secret_parameter=env.get("PREVIOUS_WEBHOOK_SECRET_PARAMETER") or None,
        )
