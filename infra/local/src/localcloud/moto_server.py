"""Kept for importers outside this repository's tree (e.g. a shared test plugin): `MotoServer`
lives in `localcloud.moto`."""

from localcloud.moto.server import HOST, MotoServer, free_port

__all__ = ["HOST", "MotoServer", "free_port"]
