"""One cached bearer token per HTTP client (Exchange admin API, Azure Resource Manager).

A token is fetched under a lock, so concurrent requests ask the credential once, and renewed five
minutes before it expires or after the service answered 401. A credential that cannot give a
token raises :class:`TokenUnavailable` with one line naming the scope; each client turns it into
its own error type.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError

RENEW_BEFORE_S = 300


class TokenSource(Protocol):
    """What the cache asks of a credential (any azure-core ``TokenCredential`` has it)."""

    def get_token(self, *scopes: str) -> AccessToken: ...


class TokenUnavailable(Exception):
    """No access token for the scope; ``reason`` is one line without secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BearerCache:
    def __init__(self, credential: TokenSource, scope: str) -> None:
        self._credential = credential
        self._scope = scope
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def bearer(self) -> str:
        """The cached token, fetched (off the event loop, unless the credential holds its tokens in
        memory) when missing or about to expire."""
        async with self._lock:
            if self._token is None or self._token[1] - RENEW_BEFORE_S < time.time():
                try:
                    if getattr(self._credential, "in_memory", False):  # no I/O: no worker thread needed
                        token = self._credential.get_token(self._scope)
                    else:
                        token = await asyncio.to_thread(self._credential.get_token, self._scope)
                except AzureError as err:  # a refused token, or a sign-in endpoint that cannot be reached
                    first = (err.message or type(err).__name__).splitlines()[0][:200]
                    raise TokenUnavailable(f"no access token for {self._scope} ({first})") from None
                self._token = (token.token, float(token.expires_on))
            return self._token[0]

    def forget(self) -> None:
        """The service refused the token (401): fetch a fresh one next time."""
        self._token = None
