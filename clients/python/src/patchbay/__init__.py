"""Patchbay client for Python: connections by name, standard library only (Python >= 3.8).

Install with ``pip install clients/python`` (from a Patchbay checkout), then::

    import patchbay

    conn = patchbay.connection("warehouse")   # reads PATCHBAY_URL and PATCHBAY_TOKEN
    conn.host, conn.port, conn.login, conn.password, conn.extra
    engine = sqlalchemy.create_engine(conn.sqlalchemy_url())
    patchbay.uri("warehouse")                 # the Airflow URI, as Airflow writes it

As an Airflow (>= 2.3, including 3.2's team_name keyword) secrets backend, in airflow.cfg::

    [secrets]
    backend = patchbay.PatchbaySecretsBackend
    backend_kwargs = {"url": "https://patchbay.example.com", "token": "pbt_..."}

The token needs the RESOLVE scope. Errors are ``PatchbayError`` with ``.code``. No message
or repr ever holds the token or a password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import SECRET_TYPE, Client
from .connection import Connection
from .defaults import connection, secret, sqlalchemy_url, uri
from .errors import PatchbayError
from .version import __version__

if TYPE_CHECKING:
    from .secrets_backend import PatchbaySecretsBackend

__all__ = [
    "Client",
    "Connection",
    "PatchbayError",
    "PatchbaySecretsBackend",
    "SECRET_TYPE",
    "__version__",
    "connection",
    "secret",
    "sqlalchemy_url",
    "uri",
]


def __getattr__(name: str) -> Any:
    # The secrets backend imports Airflow when it is installed, which is slow and pulls in its
    # configuration; load it only when asked for (Airflow asks by this dotted name).
    if name == "PatchbaySecretsBackend":
        from .secrets_backend import PatchbaySecretsBackend

        return PatchbaySecretsBackend
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
