"""Hello World with a Controller (the manual's "Getting Started").

Run it and browse http://127.0.0.1:8000/ (PORT overrides the port).
"""

from os import environ

from circuits.web import Server, Controller


class Root(Controller):

    def index(self):
        return "Hello World!"


(Server(int(environ.get("PORT", 8000))) + Root()).run()
