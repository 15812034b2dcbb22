"""The shop's pytest plugin (registered as `shop_testkit` through the `pytest11` entry point, so
every test run in the workspace has it): test tiers sorted by what a test touches, and the moto
server fixtures the services and the local cloud share.

Tiers, as markers set on each test at collection:

- `localcloud`: a fixture of its (or the test itself) starts a `LocalCloud`;
- `integration`: it uses the `moto_server` fixture (moto in server mode), moto in-process
  (`mock_aws`), or opens sockets of its own;
- `unit`: everything else: pure and in memory, the test kit's builders and fakes.

A test already marked with a tier keeps it. `make test-unit` runs `-m unit --disable-socket`
(pytest-socket), so a unit test that reaches for the network fails instead of passing slowly.

Fixtures: `moto_server` (one moto server per session; `localcloud` is imported only when a test
asks for it, since services have it as a dev dependency and libraries may not), `aws_credentials`
(dummy credentials, no profile, no endpoint: nothing may reach a real account) and `aws` (a fresh,
empty account on that server, as a `localcloud.aws.Aws`).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from localcloud.aws import Aws
    from localcloud.moto import MotoServer

TIERS = {
    "unit": "pure and in memory: no moto, no local cloud, no sockets (run with --disable-socket)",
    "integration": "moto (in server mode or in-process) or sockets of the test's own",
    "localcloud": "a local cloud with stacks deployed into it",
}
REGION = "eu-west-1"

# Names whose use in a fixture's or a test's code says what the test touches.
LOCAL_CLOUD_NAMES = frozenset({"LocalCloud"})
INTEGRATION_NAMES = frozenset({"mock_aws", "MotoServer", "socket"})
INTEGRATION_FIXTURES = frozenset({"moto_server"})


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")
    _untimed_properties()


def _untimed_properties() -> None:
    """Speed goals live in benchmarks, never in tests (decision 0005): hypothesis's per-example
    deadline would fail a property on a loaded CI runner for being slow, not wrong. Loaded here,
    before test modules are imported, so every `@settings(...)` inherits it."""
    try:
        from hypothesis import settings
    except ImportError:  # a member's tests without hypothesis installed
        return
    settings.register_profile("shop", deadline=None)
    settings.load_profile("shop")


# First, so that `-m unit` (pytest's own deselection, in the same hook) sees the tiers.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(tier_of(item))


def tier_of(item: pytest.Item) -> str:
    """The tier a test belongs to, from its fixtures and its own code."""
    fixture_names: list[str] = list(getattr(item, "fixturenames", ()))
    code_names: set[str] = set(_names(getattr(item, "obj", None)))
    info = getattr(item, "_fixtureinfo", None)
    definitions: dict[str, Any] = dict(getattr(info, "name2fixturedefs", {}) or {})
    for name in fixture_names:
        defined = definitions.get(name)
        if defined:
            # The last definition is the one in force (a module's overrides a conftest's or ours).
            code_names.update(_names(defined[-1].func))
    if code_names & LOCAL_CLOUD_NAMES:
        return "localcloud"
    if code_names & INTEGRATION_NAMES or INTEGRATION_FIXTURES.intersection(fixture_names):
        return "integration"
    return "unit"


def _names(function: object) -> Iterator[str]:
    """The global and attribute names a function's code uses, nested functions included."""
    code = getattr(function, "__code__", None)
    if code is None:
        return
    pending: list[types.CodeType] = [code]
    while pending:
        current = pending.pop()
        yield from current.co_names
        pending.extend(_nested(current.co_consts))


def _nested(constants: Iterable[object]) -> Iterator[types.CodeType]:
    for constant in constants:
        if isinstance(constant, types.CodeType):
            yield constant


# ---- the shared moto fixtures -------------------------------------------------------------------


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in a test may reach a real account, whatever the machine has configured."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server, a process of its own, for the whole session (starting one takes ~1 s)."""
    from localcloud.moto import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server: MotoServer, aws_credentials: None) -> Aws:  # noqa: ARG001 - for its effect
    """A fresh, empty local AWS account."""
    from localcloud.aws import Aws

    moto_server.reset()
    return Aws(moto_server.url, REGION)
