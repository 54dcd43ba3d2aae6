"""appcontrol: a self-hostable control plane speaking the apps/v3 API."""

__version__ = "0.1.0"
