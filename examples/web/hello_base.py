"""Hello World with a BaseServer and a plain request handler (the manual's first example)."""

from os import environ

from circuits import Component
from circuits.web import BaseServer


class Root(Component):

    def request(self, request, response):
        return "Hello World!"


(BaseServer(int(environ.get("PORT", 8000))) + Root()).run()
