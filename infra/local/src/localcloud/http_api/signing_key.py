"""The local cloud's identity provider: `LocalSigningKey`, an RS256 key that signs the only tokens
a JWT authorizer here accepts, and verifies them as API Gateway's JWT authorizer does."""

from __future__ import annotations

import binascii
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

logger = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://localcloud.local/"
# The audience of the tokens a customer signs in with (`make token`, the storefront's sign-in): the
# `jwtAudience` the services' local stage expects.
CUSTOMER_AUDIENCE = "localcloud"
ALGORITHM = "RS256"


class InvalidToken(Exception):
    """A token the local identity provider does not vouch for; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LocalSigningKey:
    """An RS256 key that signs and verifies the local cloud's JWTs."""

    def __init__(self, key: RSAKey, *, issuer: str = DEFAULT_ISSUER) -> None:
        self._key = key
        self.issuer = issuer
        self.kid = key.kid or key.thumbprint()

    @classmethod
    def load_or_create(cls, path: Path, *, issuer: str = DEFAULT_ISSUER) -> LocalSigningKey:
        """The key kept at `path` (a private JWK), created there on first use."""
        if not path.exists():
            key = RSAKey.generate_key(
                2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True
            )
            document = key.as_dict(private=True, kid=key.thumbprint())
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            draft.write_text(json.dumps(document))
            draft.chmod(0o600)
            try:
                # A link never replaces: when two processes race, both end up with the first key.
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        key = RSAKey.import_key(json.loads(path.read_text()))
        return cls(key, issuer=issuer)

    def public_jwks(self) -> dict[str, Any]:
        """The public key as a JWK set, for anything that verifies tokens itself."""
        return {"keys": [dict(self._key.as_dict(private=False))]}

    def token(
        self,
        subject: str,
        *,
        audience: str,
        claims: Mapping[str, Any] | None = None,
        ttl_seconds: int = 3600,
        scopes: Sequence[str] = (),
    ) -> str:
        """A signed JWT for `subject`; `claims` are added last, so they may override any other."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_hex(16),
        }
        if scopes:
            payload["scope"] = " ".join(scopes)
        payload.update(claims or {})
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, payload, self._key, algorithms=[ALGORITHM])

    def verify(self, token: str, *, issuer: str, audience: Sequence[str]) -> dict[str, Any]:
        """The token's claims, checked as API Gateway's JWT authorizer checks them.

        Raises `InvalidToken` for a malformed token, an unknown key or algorithm, a bad signature,
        an expired or not-yet-valid token, another issuer, or none of `audience` in `aud` (or in
        `client_id` when there is no `aud`).
        """
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError, binascii.Error) as error:
            raise InvalidToken("malformed token") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        if header.get("kid") != self.kid:
            raise InvalidToken("signed by an unknown key")
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM]).claims
        except BadSignatureError as error:
            raise InvalidToken("bad signature") from error
        except (JoseError, ValueError) as error:
            raise InvalidToken("malformed token") from error
        _check_times(claims, time.time())
        if claims.get("iss") != issuer:
            raise InvalidToken("issued by another issuer")
        presented = claims["aud"] if "aud" in claims else claims.get("client_id")
        presented = presented if isinstance(presented, list) else [presented]
        if not set(audience) & {value for value in presented if isinstance(value, str)}:
            raise InvalidToken("not for this audience")
        return dict(claims)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    def number(name: str) -> float | None:
        value = claims.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken(f"claim {name} is not a NumericDate")
        return float(value)

    expires = number("exp")
    if expires is None:
        raise InvalidToken("token has no expiry")
    if expires <= now:
        raise InvalidToken("token expired")
    not_before = number("nbf")
    if not_before is not None and not_before > now:
        raise InvalidToken("token not yet valid")
    issued = number("iat")
    if issued is not None and issued > now:
        raise InvalidToken("token issued in the future")
