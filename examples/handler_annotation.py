#!/usr/bin/env python

# The manual prints the decorated _on_started indented inside __init__, where
# it would be a local function that is never registered. This is the
# evidently intended program: _on_started is a method of the class.

from circuits.core.debugger import Debugger
from circuits.core.components import BaseComponent
from circuits.core.handlers import handler

class MyComponent(BaseComponent):

    def __init__(self):
        super(MyComponent, self).__init__()

        Debugger().register(self)

    @handler("started", channel="*")
    def _on_started(self, component):
        print("Start event detected")

MyComponent().run()
