"""The gateway's MQTT uplink: an MQTT 3.1.1 client on the circuits poller, a durable spool, HA discovery."""

from ..events import device_status, device_write, reading
from .client import MqttClient, Will
from .discovery import Discovery
from .events import mqtt_connected, mqtt_disconnected, mqtt_message, mqtt_published
from .topics import Topics
from .uplink import MqttUplink

__all__ = ["Discovery", "MqttClient", "MqttUplink", "Topics", "Will", "device_status", "device_write",
           "mqtt_connected", "mqtt_disconnected", "mqtt_message", "mqtt_published", "reading"]
