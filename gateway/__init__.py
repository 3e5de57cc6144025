"""circuits-gateway: serial devices and sensors to TCP and UDP, built with circuits.

Every part is a component under one root (:class:`gateway.app.Gateway`) on
one poller; ``gateway.events`` lists the events other parts can handle.
Run it with ``gateway run -c FILE`` (see ``gateway/README.md``).
"""
