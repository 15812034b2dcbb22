"""A stack of the shop: a folder with its own serverless.yml, named `<service>-<stage>` in
CloudFormation as the Serverless Framework names it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Read as lines rather than parsed: the templates use CloudFormation's tags (!Ref, !GetAtt), which
# a plain YAML loader refuses, and only these two top-level keys matter here.
_SERVICE = re.compile(r"^service:\s*([A-Za-z0-9-]+)\s*$", re.MULTILINE)
_LAYERS = re.compile(r"^layers:", re.MULTILINE)


class StackError(Exception):
    """A folder given as a stack is not one; the message says which and why."""


@dataclass(frozen=True)
class Stack:
    folder: Path
    service: str
    # Whether its serverless.yml declares a dependencies layer to build first (decision 0009).
    has_layer: bool

    @classmethod
    def read(cls, folder: Path) -> Stack:
        template = folder / "serverless.yml"
        try:
            text = template.read_text()
        except FileNotFoundError:
            raise StackError(f"{folder}: no serverless.yml, so not a stack") from None
        service = _SERVICE.search(text)
        if service is None:
            raise StackError(f"{template}: no top-level `service:` name")
        return cls(folder=folder, service=service.group(1), has_layer=bool(_LAYERS.search(text)))

    @property
    def member(self) -> str:
        """Its workspace member's name, which `make/layer` takes (as each member's Makefile
        passes it: the folder's name)."""
        return self.folder.name

    def name(self, stage: str) -> str:
        return f"{self.service}-{stage}"
