"""2.x path of :mod:`circuits.protocols.http`."""

from ...protocols.http import HTTP, HTTPResponse, Request, Response, http_error, request, response

__all__ = ["HTTP", "HTTPResponse", "Request", "Response", "http_error", "request", "response"]
