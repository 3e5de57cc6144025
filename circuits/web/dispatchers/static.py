"""Static: serve files from a document root (with an optional directory listing).

Requests whose path (under ``path``) names a file in ``docroot`` are
answered with it; anything else passes on to the next handler. Nothing
outside ``docroot`` is ever served: the path is resolved with every
symbolic link followed and must still lie inside the (resolved) root,
so ``..``, ``%2e%2e`` and links pointing out of the root all get 403.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from ...core.components import BaseComponent
from ...core.handlers import handler
from ..errors import forbidden, redirect
from ..files import serve_file

__all__ = ["Static"]

_LISTING = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Index of {title}</title></head>
<body>
<h1>Index of {title}</h1>
<ul>
{items}
</ul>
</body>
</html>
"""


class Static(BaseComponent):
    """Serve ``docroot`` under the URL prefix ``path`` (channel "web")."""

    channel = "web"

    def __init__(self, path: str | None = None, docroot: str | None = None,
                 defaults: tuple[str, ...] = ("index.html", "index.shtml"), dirlisting: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = "/" + path.strip("/") if path and path.strip("/") else ""
        self.docroot = os.path.realpath(os.path.abspath(docroot or os.getcwd()))
        self.defaults = tuple(defaults)
        self.dirlisting = dirlisting

    def _inside(self, location: str) -> bool:
        root = self.docroot
        return location == root or location.startswith(root.rstrip(os.sep) + os.sep)

    @handler("request", priority=0.9)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if request.method not in ("GET", "HEAD") or event.value.errors:
            return None
        path = request.path
        prefix = self.path
        if prefix:
            if path != prefix and not path.startswith(prefix + "/"):
                return None
            path = path[len(prefix):]
        rel = path.lstrip("/")
        if "\x00" in rel or "\\" in rel:
            return forbidden(request, response)
        if ".." in rel.split("/"):
            return forbidden(request, response)
        location = os.path.realpath(os.path.join(self.docroot, rel))
        if not self._inside(location):
            return forbidden(request, response)  # a symbolic link out of the root
        if os.path.isdir(location):
            if not request.path.endswith("/"):
                # Relative links in the page need the trailing slash.
                target = quote(request.path + "/") + ("?" + request.qs if request.qs else "")
                return redirect(request, response, [target], 301)
            for name in self.defaults:
                candidate = os.path.realpath(os.path.join(location, name))
                if os.path.isfile(candidate) and self._inside(candidate):
                    return serve_file(request, response, candidate)
            if self.dirlisting:
                return self._listing(request, response, location)
            return None
        if os.path.isfile(location):
            return serve_file(request, response, location)
        return None

    def _listing(self, request: Any, response: Any, location: str) -> str:
        try:
            names = sorted(os.listdir(location))
        except OSError:
            return forbidden(request, response)
        from html import escape  # here: html.entities is ~0.5 MB, for directory listings only

        items = []
        if location != self.docroot:
            items.append('<li><a href="../">../</a></li>')
        for name in names:
            if name.startswith("."):
                continue
            full = os.path.join(location, name)
            suffix = "/" if os.path.isdir(full) else ""
            href = escape(quote(name) + suffix, True)
            items.append(f'<li><a href="{href}">{escape(name + suffix)}</a></li>')
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return _LISTING.format(title=escape(request.path), items="\n".join(items))
