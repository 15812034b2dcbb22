"""Stands in for a storefront's static hosting and its sign-in page: `StorefrontSite` serves a
folder of files (`index.html`, scripts, styles) on a loopback port, as S3 behind CloudFront
serves a micro-frontend's build, with the storefront's `config.json` made from the cloud's own
endpoints, and a sign-in that stands in for an identity provider's hosted UI (Cognito's, say).

What it reproduces: GET and HEAD of the folder's files with their content types, `/` answered by
`index.html` (CloudFront's default root object), 404 for anything outside the folder (a path
never escapes it, whatever its `..` or encoding); `GET /config.json`, what a deployment writes
beside the files (where the shop's GraphQL API and Stripe are, the publishable key, where to sign
in); `POST /sign-in` `{"customer": "<id>"}` answering `{"token": "<JWT>"}`, a bearer token the
HTTP APIs' JWT authorizers accept (the local signing key, as `make token` mints).

Where it departs, on purpose: the sign-in asks for no password and trusts the customer id it is
given (any test customer may be anyone: it is a local stand-in, never a login); there is no
hosted page and no OAuth redirect, the storefront posts the id itself; files are read from disk at
each request (no cache, no invalidation), so an edit shows at the next reload.
"""

from localcloud.site.server import SignInRefused, StorefrontSite

__all__ = ["SignInRefused", "StorefrontSite"]
