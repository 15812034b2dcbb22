"""The local cloud's one backoff: exponential, capped, with full jitter."""

from localcloud.backoff import backoff_seconds


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    ceilings = [
        backoff_seconds(retry, base_seconds=0.05, cap_seconds=1.0, jitter=False)
        for retry in range(7)
    ]
    assert ceilings == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_full_jitter_draws_between_nothing_and_the_ceiling() -> None:
    assert backoff_seconds(2, base_seconds=0.05, cap_seconds=1.0, random_fraction=lambda: 0.0) == 0
    assert (
        backoff_seconds(2, base_seconds=0.05, cap_seconds=1.0, random_fraction=lambda: 0.5) == 0.1
    )
    waits = [backoff_seconds(10, base_seconds=0.05, cap_seconds=1.0) for _ in range(200)]
    assert all(0.0 <= wait <= 1.0 for wait in waits)
    assert len(set(waits)) > 1


def test_a_poller_idle_for_thousands_of_rounds_still_gets_the_cap() -> None:
    # Given an idle poller's round count after an hour at a 0.2 s interval
    rounds = 18_000

    # When it asks how long to wait, then it is the cap (2**18000 would overflow a float)
    assert backoff_seconds(rounds, base_seconds=0.02, cap_seconds=0.2, jitter=False) == 0.2
