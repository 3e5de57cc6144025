"""TLS contexts for servers and clients (handshakes are driven by the loop).

``ssl`` is imported when a context is made, not with this module: every
stream server and client imports this one, and ssl brings libssl and
libcrypto (about 4 MB of RSS) that a plain-TCP program never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl


def server_context(certfile: str | None = None, keyfile: str | None = None, ca_certs: str | None = None,
                   cert_reqs: int | None = None, ciphers: str | None = None,
                   context: ssl.SSLContext | None = None, **_: Any) -> ssl.SSLContext:
    """A server-side context; ``context`` is used as is when given.

    ``cert_reqs`` is an ``ssl.CERT_*`` value; None is ``CERT_NONE`` (no client certificate asked for).
    """
    if context is not None:
        return context
    if not certfile:
        raise ValueError("secure=True needs certfile= (and keyfile= unless the key is in it)")
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if ca_certs:
        ctx.load_verify_locations(ca_certs)
    ctx.verify_mode = ssl.CERT_NONE if cert_reqs is None else ssl.VerifyMode(cert_reqs)
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def client_context(ca_certs: str | None = None, certfile: str | None = None, keyfile: str | None = None,
                   verify: bool = True, context: ssl.SSLContext | None = None, **_: Any) -> ssl.SSLContext:
    """A client-side context: verifies the server unless ``verify=False``."""
    if context is not None:
        return context
    import ssl

    ctx = ssl.create_default_context(cafile=ca_certs)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
