"""TLS contexts for servers and clients (handshakes are driven by the loop)."""

from __future__ import annotations

import ssl
from typing import Any


def server_context(certfile: str | None = None, keyfile: str | None = None, ca_certs: str | None = None,
                   cert_reqs: int = ssl.CERT_NONE, ciphers: str | None = None,
                   context: ssl.SSLContext | None = None, **_: Any) -> ssl.SSLContext:
    """A server-side context; ``context`` is used as is when given."""
    if context is not None:
        return context
    if not certfile:
        raise ValueError("secure=True needs certfile= (and keyfile= unless the key is in it)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if ca_certs:
        ctx.load_verify_locations(ca_certs)
    ctx.verify_mode = cert_reqs
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def client_context(ca_certs: str | None = None, certfile: str | None = None, keyfile: str | None = None,
                   verify: bool = True, context: ssl.SSLContext | None = None, **_: Any) -> ssl.SSLContext:
    """A client-side context: verifies the server unless ``verify=False``."""
    if context is not None:
        return context
    ctx = ssl.create_default_context(cafile=ca_certs)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
