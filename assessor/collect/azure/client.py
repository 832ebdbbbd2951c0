"""A small async client for Azure Resource Manager reads (GET with paging, retries and typed errors).

Every read the assessor needs from ARM is a GET of a small JSON document or list:
``GET https://management.azure.com/{path}?api-version=…``; lists answer
``{"value": [...], "nextLink": "…"}`` and the next page is the ``nextLink`` URL as given (it
carries its own api-version and skip token). The client

- asks the credential for the cloud's ARM scope (``https://management.azure.com/.default``) and
  sends the token only to the configured ARM host;
- retries 429 and 5xx honouring ``Retry-After`` within a bounded budget (the collection's one
  :class:`~assessor.collect.retry.RetryPolicy`), and transport failures likewise;
- follows ``nextLink`` only on the same scheme and host, refuses a link that repeats a page (a loop)
  and stops after ``max_pages`` (the collection's one :class:`~assessor.collect.paging.PageGuard`);
- turns an error answer into :class:`ArmError` with the ARM error code and message (redacted: a
  service may echo what it was sent), never the token.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx

from assessor.collect.bearer import BearerCache, TokenSource, TokenUnavailable
from assessor.collect.errorbody import parse_error_body
from assessor.collect.paging import PageGuard
from assessor.collect.retry import RETRY_STATUSES, BudgetStats, RetryBudget, RetryPolicy, retry_after_seconds
from assessor.collect.transport import new_client
from assessor.jsontypes import WireObject
from assessor.redact import redact


@dataclass(eq=False)
class ArmError(Exception):
    """An ARM read that failed: status, ARM error code and message (never a token)."""

    path: str
    status: int | None
    code: str | None
    message: str
    kind: str = "http"  # http | auth | network | timeout | throttled | protocol

    def __post_init__(self) -> None:
        self.message = redact(self.message)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        code = f" {self.code}" if self.code else ""
        if self.status is not None:
            return f"GET {self.path} answered {self.status}{code}: {self.message}"
        return f"GET {self.path}: {self.message}"

    @property
    def forbidden(self) -> bool:
        return self.status == 403

    @property
    def not_found(self) -> bool:
        return self.status == 404


@dataclass
class ArmStats(BudgetStats):
    """ARM requests and list pages, and the client's retries."""


class ArmClient:
    """GETs against one ARM endpoint with one credential."""

    def __init__(
        self,
        base_url: str,
        scope: str,
        credential: TokenSource,
        *,
        request_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        max_pages: int = 1000,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._scope = scope
        self._budget = RetryBudget(retry or RetryPolicy())
        self._max_pages = max_pages
        self._owns_http = http is None
        self._http = http or new_client(httpx.Timeout(request_timeout, connect=min(10.0, request_timeout)))
        self._timeout = request_timeout
        self._tokens = BearerCache(credential, self._scope)
        self.stats = ArmStats(self._budget)

    def __repr__(self) -> str:
        return f"ArmClient(base={self._base!r})"

    @property
    def base_url(self) -> str:
        return self._base

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # ---- public API

    def url(self, path: str, api_version: str) -> str:
        return f"{self._base}{path}?{urlencode({'api-version': api_version})}"

    async def get(self, path: str, api_version: str) -> WireObject:
        """One resource (a JSON object)."""
        return await self._get(self.url(path, api_version), path)

    async def list(self, path: str, api_version: str) -> list[WireObject]:
        """Every item of a list, following ``nextLink`` (same host only, no loops, bounded)."""
        url: str | None = self.url(path, api_version)
        guard = PageGuard(
            lambda why: ArmError(path, 200, None, why, "protocol"),
            link_name="nextLink",
            start=url,
            max_pages=self._max_pages,
        )
        items: list[WireObject] = []
        while url is not None:
            doc = await self._get(url, path)
            value = doc.get("value")
            if not isinstance(value, list):
                raise ArmError(path, 200, None, "the answer has no 'value' array", "protocol")
            self.stats.pages += 1
            items.extend(v for v in value if isinstance(v, dict))
            link = self._next_link(path, doc.get("nextLink"))
            url = guard.follow(link) if link is not None else None
        return items

    # ---- internals

    def _next_link(self, path: str, link: object) -> str | None:
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise ArmError(path, 200, None, "nextLink is not a URL", "protocol")
        here, there = urlsplit(self._base), urlsplit(link)
        if (there.scheme, there.netloc.lower()) != (here.scheme, here.netloc.lower()):
            raise ArmError(
                path, 200, None, f"nextLink points to another host ({there.netloc}); not followed", "protocol"
            )
        return link

    async def _get(self, url: str, path: str) -> WireObject:
        attempt = 0
        while True:
            headers = {
                "Authorization": f"Bearer {await self._bearer(path)}",
                "Accept": "application/json",
                "x-ms-client-request-id": str(uuid.uuid4()),
            }
            self.stats.requests += 1
            try:
                response = await self._http.get(url, headers=headers)
            except httpx.TimeoutException as err:
                await self._budget.pause_after_transport_error(
                    attempt,
                    ArmError(
                        path, None, None, f"no answer within {self._timeout:g} s ({type(err).__name__})", "timeout"
                    ),
                )
                attempt += 1
                continue
            except httpx.TransportError as err:
                await self._budget.pause_after_transport_error(
                    attempt, ArmError(path, None, None, f"could not be reached ({type(err).__name__})", "network")
                )
                attempt += 1
                continue
            status = response.status_code
            if status in RETRY_STATUSES:
                await self._wait_before_retry(path, response, attempt)
                attempt += 1
                continue
            if status == 401:
                self._tokens.forget()
            if status >= 300:
                code, message = parse_error_body(response.content)
                kind = "auth" if status == 401 else "http"
                raise ArmError(path, status, code, message or response.reason_phrase or "error", kind)
            try:
                doc = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ArmError(path, status, None, "the answer is not JSON", "protocol") from None
            if not isinstance(doc, dict):
                raise ArmError(path, status, None, "the answer is not a JSON object", "protocol")
            return doc

    async def _wait_before_retry(self, path: str, response: httpx.Response, attempt: int) -> None:
        wait = self._budget.after_answer(attempt, retry_after_seconds(response.headers.get("Retry-After")))
        if wait is None:
            code, message = parse_error_body(response.content)
            raise ArmError(
                path,
                response.status_code,
                code,
                f"still failing after {attempt} retries ({self.stats.waited:g} s waited)"
                + (f": {message}" if message else ""),
                "throttled",
            )
        if wait > 0:
            await asyncio.sleep(wait)

    async def _bearer(self, path: str) -> str:
        try:
            return await self._tokens.bearer()
        except TokenUnavailable as err:
            raise ArmError(path, None, None, err.reason, "auth") from None
