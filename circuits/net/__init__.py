"""Networking: socket components and their events."""
