"""The tiers plugin, on test files made for the occasion: each test is sorted by what it touches."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import socket

import pytest
from moto import mock_aws


class LocalCloud:  # stands for localcloud.cloud.LocalCloud: the plugin goes by the name
    pass


@pytest.fixture
def in_process():
    with mock_aws():
        yield


@pytest.fixture
def cloud():
    return LocalCloud()


@pytest.fixture
def account(moto_server):
    return moto_server


@pytest.fixture
def through_account(account):
    return account


def test_pure():
    assert 1 + 1 == 2


def test_in_process_moto(in_process):
    pass


def test_moto_server_two_fixtures_away(through_account):
    pass


def test_own_socket():
    def probe():
        with socket.socket():
            pass


def test_local_cloud(cloud, in_process):
    pass


@pytest.mark.integration
def test_marked_by_hand():
    pass
"""


def tiers(pytester: pytest.Pytester, marker: str) -> set[str]:
    pytester.makepyfile(test_tiers=TESTS)
    result = pytester.runpytest("--collect-only", "-q", "-m", marker, "-p", "no:cacheprovider")
    return {line.split("::")[1] for line in result.outlines if "::" in line}


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("unit", {"test_pure"}),
        (
            "integration",
            {
                "test_in_process_moto",
                "test_moto_server_two_fixtures_away",
                "test_own_socket",
                "test_marked_by_hand",
            },
        ),
        ("localcloud", {"test_local_cloud"}),
    ],
)
def test_each_test_is_sorted_into_one_tier(
    pytester: pytest.Pytester, marker: str, expected: set[str]
) -> None:
    assert tiers(pytester, marker) == expected


def test_the_tiers_are_registered_markers(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")

    for tier in ("unit", "integration", "localcloud"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{tier}: *"])


def test_a_unit_test_that_opens_a_socket_fails_with_sockets_disabled(
    pytester: pytest.Pytester,
) -> None:
    # Given a test the plugin cannot see opening a socket (through a helper of another module)
    pytester.makepyfile(
        helper="import socket\n\ndef connect():\n    socket.create_connection(('127.0.0.1', 9))\n",
        test_hidden=textwrap.dedent(
            """
            import helper

            def test_hidden():
                helper.connect()
            """
        ),
    )

    # When the unit tier runs as make test-unit runs it
    result = pytester.runpytest_subprocess(
        "-m", "unit", "--disable-socket", "-p", "no:cacheprovider"
    )

    # Then it is a unit test, and it fails instead of reaching the network
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SocketBlockedError*"])


@pytest.mark.integration  # a moto server, in the inner run the plugin cannot see
def test_the_shared_fixtures_give_a_fresh_account_on_one_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_account=textwrap.dedent(
            """
            import os

            def test_first(aws, moto_server):
                assert aws.endpoint == moto_server.url
                assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
                aws.client("sqs").create_queue(QueueName="q")

            def test_second(aws):
                assert aws.client("sqs").list_queues().get("QueueUrls", []) == []
            """
        )
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_properties_are_not_timed() -> None:
    # Given the plugin loaded by pytest (its pytest11 entry point)
    from hypothesis import settings

    # Then no hypothesis example can fail for taking long on a loaded machine
    assert settings().deadline is None
