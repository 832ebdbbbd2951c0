"""One verifying TLS context per process, shared by every HTTP client the collectors build.

httpx builds a new context (and loads the CA bundle, ~50 ms of CPU) for each client by default; a
bulk run builds clients for hundreds of tenants, so the context is built once and reused.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx


@lru_cache(maxsize=1)
def shared_tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (same CA bundle and settings), built once."""
    return httpx.create_ssl_context()
