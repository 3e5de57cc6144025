"""The gateway's web side: the live dashboard, /ws, /api, /metrics, /healthz."""

from .dashboard import PART, WebDashboard

__all__ = ["PART", "WebDashboard"]
