"""Airflow secrets backend: connections by conn_id, variables from connections of type ``secret``.

airflow.cfg::

    [secrets]
    backend = patchbay.PatchbaySecretsBackend
    backend_kwargs = {"url": "https://patchbay.example.com", "token": "pbt_..."}

Every lookup method takes Airflow 3.2's ``team_name`` keyword and any later keyword
(``**kwargs``): Airflow 3.2.0 passes ``team_name`` to every backend, and a method without it
raises TypeError, which Airflow swallows and reports as "The conn_id ... isn't defined".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .client import Client
from .connection import Connection
from .errors import PatchbayError

_CLIENT_OPTIONS = ("url", "token", "workspace", "environment", "timeout", "cache_ttl")


class _StandaloneBase:
    """What Airflow's BaseSecretsBackend provides, where Airflow is not installed:
    get_connection() answers a patchbay.Connection instead of Airflow's."""

    client: Client

    def get_connection(self, conn_id: str, team_name: Optional[str] = None, **kwargs: Any) -> Optional[Connection]:
        try:
            return self.client.connection(conn_id)
        except PatchbayError as error:
            if error.code == "NOT_FOUND":
                return None
            raise


if TYPE_CHECKING:
    _Base = _StandaloneBase
else:
    try:  # pragma: no cover - depends on the environment
        from airflow.secrets import BaseSecretsBackend as _Base
    except Exception:  # ImportError, or an Airflow that fails to initialise: stay importable
        _Base = _StandaloneBase


class PatchbaySecretsBackend(_Base):
    """Airflow secrets backend: connections come from Patchbay by conn_id.

    url, token, workspace and environment fall back to PATCHBAY_URL, PATCHBAY_TOKEN,
    PATCHBAY_WORKSPACE and PATCHBAY_ENVIRONMENT; ``timeout`` and ``cache_ttl`` may be given
    too. Under Airflow, get_connection() is Airflow's own (it calls get_conn_value()).
    ``team_name`` is accepted and does not choose the workspace: the token and ``workspace``
    do. Variables come from connections of type ``secret``; config is not served (None), so
    Airflow looks for it in its next backend.
    """

    client: Client

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        workspace: Optional[str] = None,
        environment: Optional[str] = None,
        timeout: float = 10,
        cache_ttl: float = 30,
        **unknown: Any,
    ) -> None:
        if unknown:
            # A misspelt key would otherwise fall back to PATCHBAY_* without a word.
            raise PatchbayError(
                "Unknown backend_kwargs for PatchbaySecretsBackend: %s (known: %s)."
                % (", ".join(sorted(unknown)), ", ".join(_CLIENT_OPTIONS)),
                "CONFIG",
            )
        super().__init__()
        self.client = Client(
            url=url, token=token, workspace=workspace, environment=environment, timeout=timeout, cache_ttl=cache_ttl
        )

    def get_conn_value(self, conn_id: str, team_name: Optional[str] = None, **kwargs: Any) -> Optional[str]:
        """Airflow's JSON form of the connection, or None when Patchbay has no such conn_id."""
        return self.client.airflow_json(conn_id)

    def get_variable(self, key: str, team_name: Optional[str] = None, **kwargs: Any) -> Optional[str]:
        """The value of the connection ``key`` when it is of type ``secret``, else None."""
        return self.client.secret(key)

    def get_config(self, key: str, **kwargs: Any) -> Optional[str]:
        return None

    def __repr__(self) -> str:
        return "<PatchbaySecretsBackend url=%r workspace=%r>" % (self.client.url, self.client.workspace)
