"""A Lambda context object for calling handlers in tests.

Powertools' logger and batch utilities read the context's attributes, and a handler that stops
before its deadline reads the remaining time; this stands in for the runtime's object in both.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shop_testkit.events import ACCOUNT_ID, DEFAULT_REGION


@dataclass
class LambdaContext:
    """What the Python runtime passes as `context`, with the derived fields filled in.

    The invocation's deadline is `timeout_ms` after the context is made; `clock` (seconds, like
    `time.monotonic`) can be replaced to test deadline handling without sleeping.
    """

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_ms: int = 30_000
    tenant_id: str | None = None
    identity: object | None = None
    client_context: object | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    _deadline_ms: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"
            )
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            day = datetime.now(UTC).strftime("%Y/%m/%d")
            self.log_stream_name = f"{day}/[{self.function_version}]{secrets.token_hex(16)}"
        self._deadline_ms = self.clock() * 1000 + self.timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the deadline, never negative, counting down like the real one."""
        return max(0, round(self._deadline_ms - self.clock() * 1000))
