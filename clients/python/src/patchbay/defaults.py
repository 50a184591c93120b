"""Module-level helpers over one client per PATCHBAY_* setting, so their cache is shared."""

from __future__ import annotations

import os
import threading
from typing import Optional, Tuple

from .client import Client
from .connection import Connection

_SETTINGS = ("PATCHBAY_URL", "PATCHBAY_TOKEN", "PATCHBAY_WORKSPACE", "PATCHBAY_ENVIRONMENT")

_default: Optional[Tuple[Tuple[Optional[str], ...], Client]] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client for the current PATCHBAY_* variables (a new one when they change)."""
    global _default
    key = tuple(os.environ.get(name) for name in _SETTINGS)
    with _default_lock:
        if _default is None or _default[0] != key:
            _default = (key, Client())
        return _default[1]


def connection(conn_id: str) -> Connection:
    """Resolves a connection by name with PATCHBAY_URL and PATCHBAY_TOKEN."""
    return default_client().connection(conn_id)


def uri(conn_id: str, dialect: Optional[str] = None) -> str:
    """The connection's Airflow URI (in ``dialect`` when given)."""
    return default_client().uri(conn_id, dialect=dialect)


def sqlalchemy_url(conn_id: str) -> str:
    """The connection's SQLAlchemy URL (database types only)."""
    return default_client().sqlalchemy_url(conn_id)


def secret(name: str) -> Optional[str]:
    """The value of a connection of type ``secret``, or None (missing, or another type)."""
    return default_client().secret(name)
