"""A function's settings: one model per function, read from its environment once, at cold start,
and validated then, so a missing or bad setting fails the first invocation with a message that
names it, never a later one halfway through a batch.

    class ListenerSettings(FunctionSettings):
        table_name: str = Field(alias="TABLE_NAME", min_length=1)

    settings = ListenerSettings.from_environment()

A plain pydantic model rather than pydantic-settings: the same validation without the ~0.12 s
that importing pydantic-settings adds to every cold start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shop_envelope.errors import describe
from shop_envelope.factory import EventFactory


class SettingsError(RuntimeError):
    """The function's environment lacks a setting or has a bad one; says which."""


class Settings(BaseModel):
    """Fields read from environment variables by their alias; other variables are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if environment is None else environment))
        except ValidationError as error:
            raise SettingsError(
                f"{cls.__name__} from the environment: {describe(error, limit=10)}"
            ) from None


class FunctionSettings(Settings):
    """Who the function is: its service (Powertools' standard variable, set once per stack), its
    stage, and what Lambda says of it. Its events are stamped with all of that."""

    service: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    stage: str = Field(alias="STAGE", min_length=1)
    region: str | None = Field(default=None, alias="AWS_REGION")
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")

    def event_factory(self) -> EventFactory:
        return EventFactory(
            source=self.service,
            stage=self.stage,
            region=self.region,
            function_name=self.function_name,
        )
