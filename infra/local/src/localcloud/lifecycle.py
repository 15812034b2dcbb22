"""What every running part of the local cloud has in common: a start, a stop, and `with`."""

from __future__ import annotations

from typing import Self


class Part:
    """`with part:` starts it and stops it, whatever happens in between. A part that runs from
    the moment it is made keeps the default `start`."""

    def start(self) -> Self:
        return self

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
