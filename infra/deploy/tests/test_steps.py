"""The steps a deploy leaves to do by hand, as the stage calls for them."""

from __future__ import annotations

from stage_deploy.steps import remaining_steps

ENDPOINTS = {"http": {"stripe-esg": "https://esg.example"}, "stripe_publishable_key": "pk_test_1"}


def test_a_stage_with_its_identity_provider_is_told_to_get_tokens_not_to_redeploy() -> None:
    # When the stage was deployed with an issuer of its own and a publishable key
    steps = remaining_steps(
        "dev", "eu-west-1", ENDPOINTS, {"jwtIssuer": "https://idp.example/", "jwtAudience": "shop"}
    )

    # Then the secrets, the webhook, and the tokens to get: nothing to deploy again
    assert len(steps) == 3
    assert "https://esg.example/stripe/webhook" in steps[1]
    assert steps[2].startswith("Customers sign in with https://idp.example/ (audience shop)")
    assert not any("deploy again" in step for step in steps)


def test_only_the_two_secrets_in_use_are_put_and_the_rotating_one_is_named() -> None:
    [secrets, *_] = remaining_steps("dev", "eu-west-1", ENDPOINTS, {})

    puts = [line for line in secrets.splitlines() if "put-parameter" in line]
    assert [line.split("--name ")[1].split()[0] for line in puts] == [
        "/stripe-esg/dev/api-key",
        "/stripe-esg/dev/webhook-secret",
    ]
    assert "/stripe-esg/dev/webhook-secret-previous" in secrets


def test_a_stage_without_a_publishable_key_is_told_where_the_e2e_tests_need_one() -> None:
    steps = remaining_steps("dev", "eu-west-1", {"http": {}}, {"jwtIssuer": "https://idp/"})

    assert "STRIPE_PUBLISHABLE_KEY" in steps[-1]
    # And without stripe-esg's URL the webhook step says what to look for
    assert "<stripe-esg's HttpApiUrl>/stripe/webhook" in steps[1]
