"""The park function's settings: one model, read from its environment once, at cold start, so a
missing setting fails the first invocation with a message that names it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """The function's environment lacks a setting or has a bad one; says which."""


class ParkSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    fault_table_name: str = Field(alias="FAULT_TABLE_NAME", min_length=1)

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
