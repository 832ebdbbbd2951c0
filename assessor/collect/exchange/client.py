"""Async client for the Exchange Online admin API (``POST {base}/{tenant}/InvokeCommand``).

This is the REST transport ExchangeOnlineManagement v3 itself uses; the Security & Compliance
twin has the same shape. One request runs one cmdlet::

    POST https://outlook.office365.com/adminapi/beta/{tenant}/InvokeCommand?$select=A,B
    Authorization: Bearer …
    Prefer: odata.maxpagesize=1000
    {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": "Unlimited"}}}

The answer is ``{"@odata.context": "…#Collection(Exchange.GenericHashTable)", "value": [...],
"@odata.nextLink": "…"}``; the next page is fetched by POSTing the same body to the next link.

With ``ExchangeSettings.batch`` the first pages of the cmdlets that start within a few event-loop
turns of each other travel in one ``POST {base}/{tenant}/$batch`` (at most 10 per batch, as
KelvinTegelaar/CIPP-API ``New-ExoBulkRequest.ps1`` sends them): ``{"requests": [{"id", "method":
"POST", "url": <the InvokeCommand URL>, "body": {"CmdletInput": …}, "headers": <the headers of
the single POST>}]}``, answered ``{"responses": [{"id", "status", "headers", "body"}]}``. Each
item is read as its single answer would be (an ``error`` object or a status ≥ 400 is that cmdlet's
typed error; 429/5xx and redirects are re-sent on their own through the retry budget; an item
missing, answered twice, or not asked for is a protocol error; without ``status`` the body
decides); next pages are single POSTs as always. A ``$batch`` answered 400/404/405/501 or
redirected is not offered there: every cmdlet is sent on its own (``batch_note``). Batching
changes how many requests are made, never an answer.

Behaviour at the boundary:

- 429 and 5xx are retried honouring ``Retry-After`` (seconds or an HTTP date); each wait is
  capped and the total waited per client is bounded, after which :class:`ExchangeThrottledError`
  is raised. Transport errors and timeouts are retried within the same budget.
- Every request carries ``X-AnchorMailbox`` with the tenant's system mailbox
  (``APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@<tenant id>`` as CIPP-API's
  ``New-ExoRequest`` sends it, or the ``UPN:`` form with a tenant domain as ScubaGear's
  ``EXORestHelper`` does), so the pages of one chain are routed to the backend that holds the
  ``$skiptoken``'s cursor. A next page that still fails raises :class:`ExchangePagingError`
  (the caller restarts the chain); a chain whose last page announces more results in
  ``@adminapi.warnings`` without a usable next link raises :class:`ExchangeTruncatedError`, so
  a partial answer is never taken for the whole set.
- The compliance API's regional host is discovered first, as ScubaGear (``Get-ComplianceApiEndpoint``)
  and CIPP-API do: an unfollowed ``GET {front door}/adminapi/v1.0/{tenant}/EXOModuleFile`` answers
  a redirect to ``<prefix>.admin.protection.outlook.com:446``; the REST API is served at
  ``<prefix>.<front door host>`` (``nam12b.ps.compliance.protection.outlook.com``). The redirect
  is only read (never followed) and only when its host is under the cloud's Microsoft domain;
  the token is only ever sent to the front door and its regional subdomain.
- 3xx answers (the compliance endpoint's regional redirect) are followed by re-POSTing to the
  new host, only when it is the configured host or a subdomain of it, and the client keeps the
  regional base for later calls.
- Bodies are summarised, never echoed raw: a body that is not JSON (the NUL-filled 403 the
  service sends for a cmdlet the app may not run) becomes "non-JSON body, N bytes"; no control
  character reaches an error message. A 200 whose JSON carries an ``error`` object is that error.
- Errors are parsed from the Exchange error body (``error.details[0].message``, else
  ``error.innererror.internalexception.message``, else ``error.message``) into typed errors.
- Tokens come from an azure-identity style credential for the API's ``/.default`` scope; the
  token never appears in an error or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx

from assessor.collect.bearer import BearerCache, TokenSource, TokenUnavailable
from assessor.collect.clouds import is_loopback
from assessor.collect.errorbody import describe_body, error_of, parse_error_body, printable
from assessor.collect.paging import PageGuard
from assessor.collect.retry import RETRY_STATUSES, BudgetStats, RetryBudget, RetryPolicy, retry_after_seconds
from assessor.collect.transport import new_client
from assessor.collect.window import TurnWindow
from assessor.jsontypes import WireObject
from assessor.redact import redact

SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MORE_RESULTS = re.compile(r"more results|ResultSize|only the first \d+", re.IGNORECASE)
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The sandbox's stand-in for a regional host on 127.0.0.1: only used when the configured endpoint is
# loopback, so production discovery is the same code with the real host.
LOOPBACK_REGION_PATH = "/region/{prefix}"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# $batch (KelvinTegelaar/CIPP-API New-ExoBulkRequest.ps1): at most 10 requests per batch; answered as
# a whole with one of these, the endpoint does not offer it (a cloud, a proxy) and calls go one by one
BATCH = "$batch"
BATCH_MAX = 10
BATCH_TURNS = 4  # event-loop turns a $batch waits for the other cmdlets that start together
NO_BATCH_STATUSES = frozenset({400, 404, 405, 501})


# --------------------------------------------------------------------------- errors


@dataclass(eq=False)
class ExchangeError(Exception):
    """A cmdlet call that failed; carries what went wrong, never a token."""

    cmdlet: str
    endpoint: str
    status: int | None
    code: str | None
    message: str

    def __post_init__(self) -> None:
        # an error body may echo what it was sent, or carry control characters
        self.message = printable(redact(self.message), 1000)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        code = f" {self.code}" if self.code else ""
        status = f" answered {self.status}{code}" if self.status is not None else ""
        return f"{self.cmdlet} at {self.endpoint}{status}: {self.message}"


class ExchangeAuthError(ExchangeError):
    """401, or no token could be obtained for the API."""


class ExchangePermissionError(ExchangeError):
    """403: the app or user lacks the role the cmdlet needs."""


class ExchangeThrottledError(ExchangeError):
    """429/5xx (or transport failures) persisted beyond the retry budget."""


class ExchangeTimeoutError(ExchangeError):
    """No answer within the request timeout (after retries)."""


class ExchangeNetworkError(ExchangeError):
    """The endpoint could not be reached."""


class ExchangeProtocolError(ExchangeError):
    """The answer was not what the admin API sends (bad JSON, envelope, redirect or link)."""


class ExchangeCommandError(ExchangeError):
    """Any other error answer (e.g. 400 from a cmdlet that rejected its parameters)."""


class ExchangePagingError(ExchangeError):
    """A next page of a chain failed (e.g. 400 "Expired or Invalid pagination request")."""


class ExchangeTruncatedError(ExchangeError):
    """The answer announces more results than it carries and offers no usable way to read them."""


def anchor_mailbox(tenant: str) -> str:
    """The ``X-AnchorMailbox`` production clients send: the tenant's system mailbox, ``APP:`` with a
    tenant id (CIPP-API ``New-ExoRequest``), ``UPN:`` with a tenant domain (ScubaGear)."""
    kind = "APP" if _GUID.match(tenant) else "UPN"
    return f"{kind}:{SYSTEM_MAILBOX}@{tenant}"


# --------------------------------------------------------------------------- settings and stats


@dataclass(frozen=True)
class ExchangeSettings:
    """Where and how to call one admin API (Exchange or compliance)."""

    base_url: str  # ends before the tenant: https://outlook.office365.com/adminapi/beta
    tenant: str
    scope: str  # https://outlook.office365.com/.default
    api: str = "Exchange admin API"
    page_size: int = 1000
    request_timeout: float = 60.0
    connect_timeout: float = 10.0
    max_redirects: int = 3
    anchor_mailbox: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # compliance endpoint discovery: the cloud's front door host and the domain its redirect must
    # stay under; None: no discovery (the Exchange API, or a pinned non-loopback endpoint)
    discover_host: str | None = None
    discover_domain: str | None = None
    # send the first pages of cmdlets that start together in one $batch (the Exchange admin API)
    batch: bool = False


@dataclass
class ClientStats(BudgetStats):
    rows: int = 0
    redirects: int = 0
    restarts: int = 0  # paging chains restarted after a failed next page
    unpaged: int = 0  # sets read in one answer after a chain failed twice
    batches: int = 0  # $batch posts answered as batches
    batched: int = 0  # cmdlets whose first page was asked in a $batch


@dataclass(frozen=True)
class CmdletCall:
    """One InvokeCommand POST: the cmdlet, the URL, the JSON body and whether it asks for pages."""

    cmdlet: str
    url: str
    body: bytes
    paged: bool


@dataclass(frozen=True)
class _Resend:
    """A $batch item to send again on its own: after its own 429/5xx (``status``, the wait it asked
    for and its body), or with nothing to wait for (a redirect, no $batch offered, a lone call)."""

    status: int | None = None
    retry_after: float | None = None
    content: bytes = b""


_Outcome = WireObject | ExchangeError | _Resend


def _item_content(body: object, headers: Mapping[str, str]) -> bytes:
    """A $batch item's body as the bytes a single answer would have carried: JSON re-encoded, a
    string base64-decoded when its content type is not JSON (as Graph's $batch carries such bodies)."""
    if body is None:
        return b""
    if not isinstance(body, str):
        return json.dumps(body).encode("utf-8")
    if not headers.get("content-type", "").lower().startswith("application/json"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            pass
    return body.encode("utf-8")


# --------------------------------------------------------------------------- client


class ExchangeClient:
    """Runs cmdlets through InvokeCommand, streaming the rows of every page."""

    def __init__(
        self, settings: ExchangeSettings, credential: TokenSource, http: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http or new_client(httpx.Timeout(settings.request_timeout, connect=settings.connect_timeout))
        self._base = settings.base_url.rstrip("/")
        self._tokens = BearerCache(credential, settings.scope)
        self._budget = RetryBudget(settings.retry)
        self.stats = ClientStats(self._budget)
        self._discovered = settings.discover_host is None
        self._discover_lock = asyncio.Lock()
        self.discovery_note: str | None = None
        self.batch_note: str | None = None  # why the cmdlets were sent one by one instead of in $batch
        self._window: TurnWindow[tuple[CmdletCall, asyncio.Future[WireObject]]] = TurnWindow(
            BATCH_TURNS, self._fly_all, lambda waiting: not waiting[1].done()
        )

    def __repr__(self) -> str:
        return f"ExchangeClient(base={self._base!r}, tenant={self.settings.tenant!r})"

    @property
    def base_url(self) -> str:
        """The current base (after a regional redirect, the regional one)."""
        return self._base

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ExchangeClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # ---- public API

    def command_url(self, select: Sequence[str] = ()) -> str:
        url = f"{self._base}/{self.settings.tenant}/InvokeCommand"
        return f"{url}?{urlencode({'$select': ','.join(select)}, safe='$,')}" if select else url

    async def pages(
        self,
        cmdlet: str,
        parameters: Mapping[str, object] | None = None,
        select: Sequence[str] = (),
        *,
        paged: bool = True,
    ) -> AsyncIterator[list[object]]:
        """Every page of a cmdlet's output (the `value` arrays), following `@odata.nextLink`.

        ``paged=False`` asks without ``Prefer: odata.maxpagesize`` (one answer, no replay): an
        answer that still links to more is :class:`ExchangeTruncatedError`.
        """
        body = json.dumps({"CmdletInput": {"CmdletName": cmdlet, "Parameters": dict(parameters or {})}}).encode()
        # The next page is requested as soon as its link is known, so the caller's work on this
        # page overlaps the round trip for the next one (one request in flight per stream).
        first_url = self.command_url(select)
        pending: asyncio.Future[WireObject] | None = self._first_page(CmdletCall(cmdlet, first_url, body, paged))
        guard = PageGuard(  # a link back to page 1 is a loop too
            lambda why: ExchangeProtocolError(cmdlet, self._base, 200, None, why), start=first_url
        )
        page = 0
        try:
            while pending is not None:
                try:
                    doc = await pending
                except (ExchangeCommandError, ExchangeProtocolError) as err:
                    if page == 0:
                        raise
                    raise ExchangePagingError(
                        cmdlet, self._base, err.status, err.code, f"page {page + 1} failed: {err.message}"
                    ) from None
                pending = None
                page += 1
                values = self._values(cmdlet, doc)
                link = self._next_link(cmdlet, doc)
                if link is not None:
                    if not paged:
                        raise ExchangeTruncatedError(
                            cmdlet, self._base, 200, None, "the single answer links to more results (@odata.nextLink)"
                        )
                    pending = asyncio.ensure_future(self._post(cmdlet, guard.follow(link), body, paged))
                else:
                    self._check_complete(cmdlet, doc)
                yield values
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, ExchangeError):
                    await pending

    def _check_complete(self, cmdlet: str, doc: WireObject) -> None:
        """The last page: warnings that announce more results mean the set is not whole."""
        warnings = doc.get("@adminapi.warnings")
        texts = [w for w in warnings if isinstance(w, str)] if isinstance(warnings, list) else []
        if isinstance(warnings, str):
            texts = [warnings]
        more = [w for w in texts if _MORE_RESULTS.search(w)]
        if more:
            raise ExchangeTruncatedError(
                cmdlet,
                self._base,
                200,
                None,
                f"the answer announces more results without a next link ({printable(more[0], 160)})",
            )

    def _values(self, cmdlet: str, doc: WireObject) -> list[object]:
        code, message = error_of(doc)
        if code is not None or message is not None:  # a 200 that carries an error is that error
            raise ExchangeCommandError(cmdlet, self._base, 200, code, message or "error object in a 200 answer")
        values = doc.get("value")
        if values is None and "@adminapi.warnings" in doc:
            values = []
        if not isinstance(values, list):
            raise ExchangeProtocolError(cmdlet, self._base, 200, None, "the answer has no 'value' array")
        self.stats.pages += 1
        self.stats.rows += len(values)
        return values

    async def rows(
        self, cmdlet: str, parameters: Mapping[str, object] | None = None, select: Sequence[str] = ()
    ) -> AsyncIterator[object]:
        async for page in self.pages(cmdlet, parameters, select):
            for row in page:
                yield row

    async def invoke(
        self, cmdlet: str, parameters: Mapping[str, object] | None = None, select: Sequence[str] = ()
    ) -> list[object]:
        """All rows of a cmdlet (only for cmdlets with small output)."""
        return [row async for row in self.rows(cmdlet, parameters, select)]

    # ---- $batch: the first pages of cmdlets that start together

    def _first_page(self, call: CmdletCall) -> asyncio.Future[WireObject]:
        """The first page of ``call``: one POST, or (``settings.batch``) an item of the next $batch."""
        if not self.settings.batch or not self._discovered:  # a regional host is found by a single call
            return asyncio.ensure_future(self._post(call.cmdlet, call.url, call.body, call.paged))
        answer: asyncio.Future[WireObject] = asyncio.get_running_loop().create_future()
        self._window.submit((call, answer))
        return answer

    async def _fly_all(self, waiting: list[tuple[CmdletCall, asyncio.Future[WireObject]]]) -> None:
        """What the window gathered, in $batch posts of at most :data:`BATCH_MAX`, side by side."""
        await asyncio.gather(
            *(self._fly(waiting[start : start + BATCH_MAX]) for start in range(0, len(waiting), BATCH_MAX))
        )

    async def _fly(self, chunk: list[tuple[CmdletCall, asyncio.Future[WireObject]]]) -> None:
        """Answer every caller of one chunk: a lone call is posted on its own, several in a $batch;
        items to re-send (throttled, redirected, or no $batch offered) go one by one."""
        try:
            calls = [call for call, _answer in chunk]
            outcomes: Sequence[_Outcome] = [_Resend()] if len(calls) == 1 else await self._post_batch(calls)
            await asyncio.gather(
                *(self._settle(call, answer, outcome) for (call, answer), outcome in zip(chunk, outcomes, strict=True))
            )
        except asyncio.CancelledError:
            for _call, answer in chunk:
                answer.cancel()
            raise
        except Exception as err:  # never leave a caller waiting, whatever went wrong
            for _call, answer in chunk:
                if not answer.done():
                    answer.set_exception(err)

    async def _settle(self, call: CmdletCall, answer: asyncio.Future[WireObject], outcome: _Outcome) -> None:
        if answer.done():  # the caller gave up: nothing to send for it
            return
        if isinstance(outcome, _Resend):
            try:
                if outcome.status is not None:  # the item's own 429/5xx: this was attempt 0
                    await self._pause(call.cmdlet, outcome.status, outcome.retry_after, outcome.content, 0)
                outcome = await self._post(call.cmdlet, call.url, call.body, call.paged, 1 if outcome.status else 0)
            except ExchangeError as err:
                outcome = err
        if answer.done():
            return
        if isinstance(outcome, ExchangeError):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)

    async def _post_batch(self, calls: Sequence[CmdletCall]) -> list[_Outcome]:
        """One ``POST {base}/{tenant}/$batch`` carrying ``calls`` (each with the headers its own POST
        would carry), answered per call: its first page, its error, or :class:`_Resend`.

        The whole request is retried like a single one (429/5xx, transport failures, within the
        budget); answered 400/404/405/501 or redirected, the endpoint is taken as not offering
        $batch and every call is re-sent on its own (``batch_note`` says so); any other failure
        of the whole request is every call's failure."""
        url = f"{self._base}/{self.settings.tenant}/$batch"
        try:
            items = [
                {
                    "id": str(n),
                    "method": "POST",
                    "url": call.url,
                    "body": json.loads(call.body),
                    "headers": await self._headers(call.cmdlet, call.paged, correlated=False),
                }
                for n, call in enumerate(calls, 1)
            ]
            payload = json.dumps({"requests": items}).encode("utf-8")
            attempt = 0
            while True:
                headers = await self._headers(BATCH, paged=True)
                headers["Prefer"] = f"odata.maxpagesize={self.settings.page_size}, odata.continue-on-error"
                response = await self._send_with(BATCH, url, payload, attempt, headers)
                if response is None:
                    attempt += 1
                    continue
                status = response.status_code
                if status in NO_BATCH_STATUSES or status in REDIRECT_STATUSES:
                    code, message = parse_error_body(response.content)
                    why = f"{code}: {message}" if code and message else (message or code or response.reason_phrase)
                    # an answer may echo what it was sent (the items carry the token): redacted
                    self.batch_note = (
                        f"$batch answered {status}{f' ({printable(redact(why), 160)})' if why else ''}: "
                        "cmdlets sent one by one"
                    )
                    return [_Resend() for _call in calls]
                if status in RETRY_STATUSES:
                    await self._wait_before_retry(BATCH, response, attempt)
                    attempt += 1
                    continue
                if status == 401:
                    self._tokens.forget()
                if status >= 400:
                    return [
                        self._error(call.cmdlet, status, response.content, response.reason_phrase) for call in calls
                    ]
                self.stats.batches += 1
                self.stats.batched += len(calls)
                return self._batch_items(calls, self._decode(BATCH, response))
        except ExchangeError as err:  # the whole request failed: every call's failure, under its own name
            return [dataclasses.replace(err, cmdlet=call.cmdlet) for call in calls]

    def _batch_items(self, calls: Sequence[CmdletCall], doc: WireObject) -> list[_Outcome]:
        """Each call's item of a $batch answer (``responses[]``, matched by ``id``)."""
        responses = doc.get("responses")
        if not isinstance(responses, list):
            raise ExchangeProtocolError(BATCH, self._base, 200, None, "the $batch answer has no 'responses' array")
        by_id: dict[str, list[WireObject]] = {}
        for item in responses:
            key = item.get("id") if isinstance(item, dict) else None
            by_id.setdefault(str(key) if isinstance(key, str | int) and not isinstance(key, bool) else "", []).append(
                item if isinstance(item, dict) else {}
            )
        asked = [str(n) for n in range(1, len(calls) + 1)]
        unknown = set(by_id) - set(asked)
        if unknown:  # an answer to something not asked: no item of it can be trusted to be ours
            raise ExchangeProtocolError(
                BATCH, self._base, 200, None, f"the $batch answer holds {len(unknown)} item(s) that were not asked for"
            )
        out: list[_Outcome] = []
        for key, call in zip(asked, calls, strict=True):
            found = by_id.get(key, [])
            if len(found) != 1:
                why = (
                    "missing from the $batch answer"
                    if not found
                    else f"answered {len(found)} times in the $batch answer"
                )
                out.append(ExchangeProtocolError(call.cmdlet, self._base, 200, None, why))
            else:
                out.append(self._batch_item(call, found[0]))
        return out

    def _batch_item(self, call: CmdletCall, item: WireObject) -> _Outcome:
        """One item: its page (a 2xx, or an item without ``status`` — read like a 200, so an ``error``
        object in it is that error), its typed error, or a re-send (429/5xx, a redirect)."""
        raw_headers = item.get("headers")
        headers = (
            {str(k).lower(): str(v) for k, v in raw_headers.items() if isinstance(v, str | int)}
            if isinstance(raw_headers, dict)
            else {}
        )
        body = item.get("body")
        status = item.get("status", 200)  # no captured answer shows the per-item status
        if not isinstance(status, int) or isinstance(status, bool):
            return ExchangeProtocolError(call.cmdlet, self._base, None, None, "a $batch item's status is not a number")
        if status in REDIRECT_STATUSES:
            return _Resend()
        if status in RETRY_STATUSES:
            return _Resend(status, retry_after_seconds(headers.get("retry-after")), _item_content(body, headers))
        if status == 401:
            self._tokens.forget()
        if status >= 400:
            return self._error(call.cmdlet, status, _item_content(body, headers))
        if not 200 <= status < 300:
            return ExchangeProtocolError(call.cmdlet, self._base, status, None, f"a $batch item answered {status}")
        if isinstance(body, dict):
            return body
        try:
            doc = json.loads(_item_content(body, headers))
        except (json.JSONDecodeError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict):
            return doc
        return ExchangeProtocolError(
            call.cmdlet, self._base, status, None, "the $batch item's body is not a JSON object"
        )

    # ---- paging

    def _next_link(self, cmdlet: str, doc: WireObject) -> str | None:
        link = doc.get("@odata.nextLink")
        if link is None:
            return None
        if not isinstance(link, str) or not link:
            raise ExchangeProtocolError(cmdlet, self._base, 200, None, "@odata.nextLink is not a URL")
        here, there = urlsplit(self._base), urlsplit(link)
        if (there.scheme, there.netloc.lower()) != (here.scheme, here.netloc.lower()):
            raise ExchangeProtocolError(
                cmdlet, self._base, 200, None, f"@odata.nextLink points to another host ({there.netloc}); not followed"
            )
        return link

    # ---- one POST with token, retries and redirects

    # ---- compliance endpoint discovery

    async def _ensure_discovered(self, cmdlet: str) -> None:
        if self._discovered:
            return
        async with self._discover_lock:
            if not self._discovered:
                await self._discover(cmdlet)
                self._discovered = True

    async def _discover(self, cmdlet: str) -> None:
        front = self._base
        root = front[: -len("/adminapi/beta")] if front.lower().endswith("/adminapi/beta") else None
        if root is None:
            self.discovery_note = "no discovery: the endpoint does not end in /adminapi/beta"
            return
        url = f"{root}/adminapi/v1.0/{self.settings.tenant}/EXOModuleFile"
        headers = await self._headers(cmdlet, paged=False)
        self.stats.requests += 1
        try:
            response = await self._http.get(url, headers=headers, follow_redirects=False)
        except httpx.TransportError as err:
            raise ExchangeNetworkError(
                cmdlet,
                self._base,
                None,
                None,
                f"endpoint discovery could not reach the front door ({type(err).__name__})",
            ) from None
        if response.status_code in (401, 403):
            raise self._error_for(cmdlet, response)
        location = response.headers.get("Location") if response.status_code in REDIRECT_STATUSES else None
        if not location:
            self.discovery_note = f"the front door answered {response.status_code} without a redirect: kept it"
            return
        self._base = self._regional_base(cmdlet, front, root, location)

    def _regional_base(self, cmdlet: str, front: str, root: str, location: str) -> str:
        """``<prefix>.<front door host>`` from the redirect's host ``<prefix>.admin.protection.<domain>``."""
        host = (urlsplit(location).hostname or "").lower()
        domain = (self.settings.discover_domain or "").lower()
        prefix = host.split(".", 1)[0]
        if not domain or not host.endswith("." + domain) or not _PREFIX.match(prefix) or host == prefix:
            raise ExchangeProtocolError(
                cmdlet,
                front,
                None,
                None,
                f"endpoint discovery redirected to {host or 'nowhere'}, which is not under {domain or 'the cloud'}; "
                "not followed",
            )
        regional = f"https://{prefix}.{self.settings.discover_host}/adminapi/beta"
        if is_loopback(urlsplit(front).hostname or ""):
            regional = f"{root}{LOOPBACK_REGION_PATH.format(prefix=prefix)}/adminapi/beta"
        self.stats.redirects += 1
        self.discovery_note = (
            f"regional endpoint {prefix}.{self.settings.discover_host} (front door redirect to {host})"
        )
        return regional

    async def _post(self, cmdlet: str, url: str, body: bytes, paged: bool = True, attempt: int = 0) -> WireObject:
        if not self._discovered:
            front = self._base
            await self._ensure_discovered(cmdlet)
            if url.startswith(front) and self._base != front:
                url = self._base + url[len(front) :]
        redirects = 0
        while True:
            response = await self._send(cmdlet, url, body, attempt, paged)
            if response is None:  # transport failure already budgeted: try again
                attempt += 1
                continue
            status = response.status_code
            if status in REDIRECT_STATUSES:
                redirects += 1
                url = self._follow_redirect(cmdlet, url, response, redirects)
                continue
            if status in RETRY_STATUSES:
                await self._wait_before_retry(cmdlet, response, attempt)
                attempt += 1
                continue
            if status == 401:
                self._tokens.forget()
            if status >= 400:
                raise self._error_for(cmdlet, response)
            return self._decode(cmdlet, response)

    async def _send(self, cmdlet: str, url: str, body: bytes, attempt: int, paged: bool) -> httpx.Response | None:
        return await self._send_with(cmdlet, url, body, attempt, await self._headers(cmdlet, paged))

    async def _send_with(
        self, cmdlet: str, url: str, body: bytes, attempt: int, headers: dict[str, str]
    ) -> httpx.Response | None:
        self.stats.requests += 1
        try:
            return await self._http.post(url, content=body, headers=headers)
        except httpx.TimeoutException as err:
            await self._budget.pause_after_transport_error(
                attempt,
                ExchangeTimeoutError(
                    cmdlet,
                    self._base,
                    None,
                    None,
                    f"no answer within {self.settings.request_timeout:g} s ({type(err).__name__})",
                ),
            )
        except httpx.TransportError as err:
            await self._budget.pause_after_transport_error(
                attempt,
                ExchangeNetworkError(cmdlet, self._base, None, None, f"could not be reached ({type(err).__name__})"),
            )
        return None

    async def _wait_before_retry(self, cmdlet: str, response: httpx.Response, attempt: int) -> None:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        await self._pause(cmdlet, response.status_code, retry_after, response.content, attempt)

    async def _pause(self, cmdlet: str, status: int, retry_after: float | None, content: bytes, attempt: int) -> None:
        """Wait before retry ``attempt + 1`` of an answer ``status`` (429/5xx), or raise
        :class:`ExchangeThrottledError` when the retries or the budget are spent."""
        wait = self._budget.after_answer(attempt, retry_after)
        if wait is None:
            code, message = parse_error_body(content)
            raise ExchangeThrottledError(
                cmdlet,
                self._base,
                status,
                code,
                f"still failing after {attempt} retries ({self.stats.waited:g} s waited"
                f"{f', asked to wait {retry_after:g} s more' if retry_after is not None else ''})"
                f"{': ' + message if message else ''}",
            )
        if wait > 0:
            await asyncio.sleep(wait)

    def _follow_redirect(self, cmdlet: str, url: str, response: httpx.Response, hops: int) -> str:
        location = response.headers.get("Location")
        if not location or hops > self.settings.max_redirects:
            raise ExchangeProtocolError(
                cmdlet, self._base, response.status_code, None, "redirect without a location, or too many redirects"
            )
        target = str(httpx.URL(url).join(location))
        if not _redirect_allowed(self.settings.base_url, target):
            raise ExchangeProtocolError(
                cmdlet,
                self._base,
                response.status_code,
                None,
                f"redirect to {urlsplit(target).netloc} refused (not the configured "
                "host or one of its regional subdomains)",
            )
        marker = f"/{self.settings.tenant}/InvokeCommand".lower()
        path = urlsplit(target).path
        cut = path.lower().rfind(marker)
        if cut < 0:
            raise ExchangeProtocolError(
                cmdlet, self._base, response.status_code, None, "redirect does not point to an InvokeCommand URL"
            )
        parts = urlsplit(target)
        self._base = f"{parts.scheme}://{parts.netloc}{path[:cut]}"
        self.stats.redirects += 1
        return target

    # ---- tokens, headers, decoding

    async def _headers(self, cmdlet: str, paged: bool = True, *, correlated: bool = True) -> dict[str, str]:
        """A request's headers; a $batch item's (``correlated=False``) leave out the random
        ``client-request-id`` (the $batch request carries one), so a batch body is the same for the
        same calls."""
        headers = {
            "Authorization": f"Bearer {await self._bearer(cmdlet)}",
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "X-ResponseFormat": "json",
            "X-AnchorMailbox": self.settings.anchor_mailbox or anchor_mailbox(self.settings.tenant),
        }
        if correlated:
            headers["client-request-id"] = str(uuid.uuid4())
        if paged:
            headers["Prefer"] = f"odata.maxpagesize={self.settings.page_size}"
        return headers

    async def _bearer(self, cmdlet: str) -> str:
        try:
            return await self._tokens.bearer()
        except TokenUnavailable as err:
            raise ExchangeAuthError(cmdlet, self._base, None, None, err.reason) from None

    def _error_for(self, cmdlet: str, response: httpx.Response) -> ExchangeError:
        return self._error(cmdlet, response.status_code, response.content, response.reason_phrase)

    def _error(self, cmdlet: str, status: int, content: bytes, reason: str | None = None) -> ExchangeError:
        """The typed error of an error answer (401 auth, 403 permission, anything else a command error)."""
        code, message = parse_error_body(content)
        text = message or reason or "error"
        kind: type[ExchangeError] = {401: ExchangeAuthError, 403: ExchangePermissionError}.get(
            status, ExchangeCommandError
        )
        return kind(cmdlet, self._base, status, code, text)

    def _decode(self, cmdlet: str, response: httpx.Response) -> WireObject:
        try:
            doc = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ExchangeProtocolError(
                cmdlet,
                self._base,
                response.status_code,
                None,
                f"the answer is not JSON ({describe_body(response.content)})",
            ) from None
        if not isinstance(doc, dict):
            raise ExchangeProtocolError(
                cmdlet, self._base, response.status_code, None, "the answer is not a JSON object"
            )
        return doc


def _redirect_allowed(configured: str, target: str) -> bool:
    base, there = urlsplit(configured), urlsplit(target)
    host, new_host = (base.hostname or "").lower(), (there.hostname or "").lower()
    if there.scheme == "http" and not is_loopback(new_host):
        return False
    if there.scheme not in ("http", "https") or (base.scheme == "https" and there.scheme != "https"):
        return False
    if is_loopback(host):
        return new_host == host and there.port == base.port
    return new_host == host or new_host.endswith("." + host)
