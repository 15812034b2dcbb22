"""Secrets from SSM Parameter Store SecureStrings, through Powertools' parameters utility: read on
first use, decrypted, cached for `max_age` seconds (so a rotated secret is picked up within it),
and never logged. The environment names the parameters, never holds their values."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# Long enough that a warm function reads each parameter a few times an hour, short enough that a
# rotation reaches every running function within minutes.
SECRET_MAX_AGE_SECONDS = 300


class ParameterSecrets:
    def __init__(self, *, client: Any = None, max_age: int = SECRET_MAX_AGE_SECONDS) -> None:
        self._client = client
        self._max_age = max_age
        self._provider: Any = None
        # Optional parameters found missing, until when: Powertools caches values, not absences,
        # and a missing previous secret would otherwise cost an SSM call per webhook.
        self._absent_until: dict[str, float] = {}

    def _ssm(self) -> Any:
        if self._provider is None:
            import boto3
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._provider = SSMProvider(boto3_client=self._client or boto3.client("ssm"))
        return self._provider

    def read(self, name: str) -> str:
        """The decrypted value; `LookupError` when there is none (missing, empty, unreadable)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._ssm().get(name, decrypt=True, max_age=self._max_age)
        except GetParameterError as error:
            # The error names the parameter; its value is never in it.
            raise LookupError(f"parameter {name} unreadable") from error
        if not value:
            raise LookupError(f"parameter {name} is empty")
        return str(value)

    def reader(self, name: str) -> Callable[[], str]:
        return lambda: self.read(name)

    def all_of(self, required: str, *optional: str) -> Callable[[], list[str]]:
        """The values of `required` and of those `optional` ones that exist (a rotation's
        previous secret), in that order; `LookupError` when `required` cannot be read."""

        def read_all() -> list[str]:
            values = [self.read(required)]
            for name in optional:
                if self._absent_until.get(name, 0.0) > time.monotonic():
                    continue
                try:
                    values.append(self.read(name))
                except LookupError:
                    self._absent_until[name] = time.monotonic() + self._max_age
            return values

        return read_all
