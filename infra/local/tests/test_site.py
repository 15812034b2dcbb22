"""The storefront's hosting and sign-in: a folder's files, its config.json, and tokens the HTTP
APIs accept."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud.http_api import (
    CUSTOMER_AUDIENCE,
    HttpApiServer,
    JwtAuthorizer,
    LocalSigningKey,
    Route,
)
from localcloud.lambda_.functions import Invocation
from localcloud.site import StorefrontSite
from localcloud.site.server import MAX_SIGN_IN_BYTES

# Sockets of their own: not a unit test, whatever its fixtures.
pytestmark = pytest.mark.integration

CONFIG = {
    "graphqlUrl": "http://127.0.0.1:1/graphql",
    "stripeUrl": "http://127.0.0.1:2",
    "stripePublishableKey": "pk_test_site",
    "signInUrl": "/sign-in",
}


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> LocalSigningKey:
    return LocalSigningKey.load_or_create(tmp_path_factory.mktemp("key") / "jwt-key.json")


@pytest.fixture
def storefront(tmp_path: Path) -> Path:
    folder = tmp_path / "storefront"
    (folder / "js").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>shop</title>")
    (folder / "js" / "app.js").write_text("export const shop = 1;\n")
    (folder / "styles.css").write_text("body { margin: 0 }\n")
    # A secret beside the site's folder, which no request may reach.
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


@pytest.fixture
def site(storefront: Path, signing_key: LocalSigningKey) -> Iterator[StorefrontSite]:
    with StorefrontSite(
        storefront,
        config=lambda: CONFIG,
        issue_token=lambda customer: signing_key.token(customer, audience=CUSTOMER_AUDIENCE),
    ) as running:
        yield running


def get(site: StorefrontSite, path: str) -> http.client.HTTPResponse:
    """The raw path as sent, never normalised by a client library (`..` stays `..`)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def fetch(url: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def sign_in(site: StorefrontSite, body: bytes) -> tuple[int, Any]:
    status, _, raw = fetch(site.url + "/sign-in", body)
    return status, json.loads(raw)


def test_the_folders_files_are_served_with_their_content_types(site: StorefrontSite) -> None:
    # When the browser loads the page, its script and its styles
    page = fetch(site.url + "/")
    script = fetch(site.url + "/js/app.js")
    styles = fetch(site.url + "/styles.css")

    # Then each is the folder's file, typed so that the browser runs an ES module and applies CSS
    assert page[0] == 200
    assert page[2] == b"<!doctype html><title>shop</title>"
    assert page[1]["Content-Type"] == "text/html; charset=utf-8"
    assert script[2] == b"export const shop = 1;\n"
    assert script[1]["Content-Type"].split(";")[0] in {"text/javascript", "application/javascript"}
    assert styles[1]["Content-Type"] == "text/css; charset=utf-8"
    assert page[1]["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/js/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/js/%2E%2E/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "//etc/passwd",
        "/%00index.html",
        "/no-such-file.js",
    ],
)
def test_nothing_outside_the_folder_is_ever_served(site: StorefrontSite, path: str) -> None:
    assert get(site, path).status == 404


def test_a_symlink_out_of_the_folder_is_not_followed(
    site: StorefrontSite, storefront: Path
) -> None:
    (storefront / "escape.txt").symlink_to(storefront.parent / "secret.txt")

    assert get(site, "/escape.txt").status == 404


def test_config_json_is_made_from_the_clouds_endpoints_at_each_request(
    storefront: Path, signing_key: LocalSigningKey
) -> None:
    # Given a config that changes once the API is deployed (the site starts before the stacks)
    config: dict[str, Any] = {**CONFIG, "graphqlUrl": None}
    with StorefrontSite(storefront, config=lambda: config, issue_token=str) as site:
        before = json.loads(fetch(site.url + "/config.json")[2])
        config["graphqlUrl"] = "http://127.0.0.1:9/graphql"

        # When the storefront reads its config.json
        status, headers, raw = fetch(site.url + "/config.json")

    # Then it sees the config as it is now, as JSON
    assert before["graphqlUrl"] is None
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw) == config


def test_the_origin_is_localhost_on_the_sites_port(site: StorefrontSite) -> None:
    assert site.origin == f"http://localhost:{site.port}"
    assert site.public_url == site.origin + "/"


def test_a_folder_without_index_html_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no storefront in .*empty: it has no index\.html"):
        StorefrontSite(tmp_path / "empty", config=dict, issue_token=str)


def test_a_signed_in_customers_token_is_accepted_by_an_http_apis_jwt_authorizer(
    site: StorefrontSite, signing_key: LocalSigningKey
) -> None:
    # Given an HTTP API whose route needs a customer's token, as the BFF's local stage
    claims: list[dict[str, Any]] = []

    def invoke(function: str, payload: bytes) -> Invocation:
        event = json.loads(payload)
        claims.append(event["requestContext"]["authorizer"]["jwt"]["claims"])
        return Invocation(function, "request-id", b'{"statusCode": 200, "body": "ok"}', 1.0)

    authorizer = JwtAuthorizer("customer", signing_key.issuer, (CUSTOMER_AUDIENCE,))
    route = Route("POST /graphql", "bff-graphql", authorizer)
    with HttpApiServer([route], invoke, signing_key, name="bff-local") as api:
        # When a customer signs in on the storefront and calls the API with the token
        status, signed_in = sign_in(site, b'{"customer": "customer-7"}')
        request = urllib.request.Request(
            api.url + "/graphql",
            data=b"{}",
            headers={"Authorization": f"Bearer {signed_in['token']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            api_status = answer.status
        anonymous = fetch(api.url + "/graphql", b"{}")

    # Then the API let that customer in, and no one without a token
    assert status == 200
    assert signed_in["customer"] == "customer-7"
    assert api_status == 200
    assert claims[0]["sub"] == "customer-7"
    assert anonymous[0] == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"customer-1", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b"[]", "the body names no customer"),
        (b'{"name": "customer-1"}', "the body names no customer"),
        (b'{"customer": ""}', "customer must be 1 to 64 letters"),
        (b'{"customer": 7}', "customer must be 1 to 64 letters"),
        (b'{"customer": "../admin"}', "customer must be 1 to 64 letters"),
        (b'{"customer": "' + b"a" * 65 + b'"}', "customer must be 1 to 64 letters"),
    ],
)
def test_a_bad_sign_in_body_is_a_400_saying_what_to_send(
    site: StorefrontSite, body: bytes, message: str
) -> None:
    status, answer = sign_in(site, body)

    assert status == 400
    assert answer["message"].startswith(message)
    assert "token" not in answer


def test_an_oversized_sign_in_body_is_refused_unread(site: StorefrontSite) -> None:
    status, answer = sign_in(site, b" " * (MAX_SIGN_IN_BYTES + 1))

    assert status == 413
    assert answer == {"message": "sign-in body too large"}


def test_a_post_anywhere_but_the_sign_in_is_refused(site: StorefrontSite) -> None:
    status, _, raw = fetch(site.url + "/index.html", b"{}")

    assert status == 405
    assert json.loads(raw) == {"message": "POST only to /sign-in"}


def test_a_sign_in_with_a_bad_content_length_is_a_400(site: StorefrontSite) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.putrequest("POST", "/sign-in")
    connection.putheader("Content-Length", "many")
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()

    assert response.status == 400
    assert body == {"message": "bad Content-Length"}
