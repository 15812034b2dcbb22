"""Each function's settings: one model per function, read from its environment once, at cold
start, and validated then, so a missing or bad setting fails the first invocation with a message
that names it, never a later one halfway through a batch.

A plain pydantic model rather than pydantic-settings: the same validation without the ~0.12 s
that importing pydantic-settings adds to every cold start here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shop_envelope import EventFactory

SERVICE = "inventory"


class SettingsError(RuntimeError):
    """The function's environment lacks a setting or has a bad one; says which."""


class FunctionSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = Field(alias="STAGE", min_length=1)
    bus_name: str = Field(alias="BUS_NAME", min_length=1, description="Where events go.")
    region: str | None = Field(default=None, alias="AWS_REGION")
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if environment is None else environment))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}"
                for e in error.errors(include_url=False)
            )
            raise SettingsError(f"{cls.__name__} from the environment: {problems}") from None

    def event_factory(self) -> EventFactory:
        return EventFactory(
            source=SERVICE, stage=self.stage, region=self.region, function_name=self.function_name
        )


class ListenerSettings(FunctionSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    reservation_hold_seconds: int = Field(
        default=7200,
        alias="RESERVATION_HOLD_SECONDS",
        ge=60,
        description="How long a reservation may stay unsettled before the safety net releases it.",
    )


class TriggerSettings(FunctionSettings):
    pass


class ExpirySettings(FunctionSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
