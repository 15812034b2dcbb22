"""The park function's settings: one model, read from its environment once, at cold start, so a
missing setting fails the first invocation with a message that names it."""

from __future__ import annotations

from pydantic import Field
from shop_envelope.settings import Settings


class ParkSettings(Settings):
    fault_table_name: str = Field(alias="FAULT_TABLE_NAME", min_length=1)
