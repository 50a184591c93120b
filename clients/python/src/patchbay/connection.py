"""A resolved connection, with Airflow's attribute names."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from .errors import PatchbayError
from .shapes import as_object, as_str

_NOT_SENT: Any = object()


class Connection:
    """A resolved connection: every field with the secrets, as Airflow names them."""

    name: str
    conn_id: str
    conn_type: str
    description: Optional[str]
    host: Optional[str]
    port: Optional[int]
    schema: Optional[str]
    login: Optional[str]
    password: Optional[str]
    extra: Dict[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.name = str(data.get("name") or "")
        self.conn_id = self.name
        self.conn_type = str(data.get("type") or "")
        self.description = as_str(data.get("description"))
        self.host = as_str(data.get("host"))
        port = data.get("port")
        self.port = port if isinstance(port, int) and not isinstance(port, bool) else None
        self.schema = as_str(data.get("schema"))
        self.login = as_str(data.get("login"))
        self.password = as_str(data.get("password"))
        self.extra = dict(as_object(data.get("extra")))
        self._airflow_uri = as_str(data.get("airflowUri"))
        # Absent (an old server that lacks the field) differs from null (a type without one).
        self._sqlalchemy_url: Any = data.get("sqlalchemyUrl", _NOT_SENT)

    @property
    def type(self) -> str:
        """The Patchbay type id (postgres, mysql, http, ...); the same as conn_type."""
        return self.conn_type

    @property
    def extra_dejson(self) -> Dict[str, Any]:
        """Airflow's name for the extra settings as a dict."""
        return self.extra

    def uri(self) -> str:
        """The connection as an Airflow URI in the server's default dialect, as Airflow writes it."""
        if not self._airflow_uri:
            raise PatchbayError("Patchbay sent no Airflow URI for connection %r." % self.name, "BAD_RESPONSE")
        return self._airflow_uri

    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL with the password, for database types (postgres, mysql, mssql, sqlite)."""
        if self._sqlalchemy_url is _NOT_SENT:
            raise PatchbayError("This Patchbay server does not provide SQLAlchemy URLs yet; upgrade it.", "UNSUPPORTED")
        if not isinstance(self._sqlalchemy_url, str) or not self._sqlalchemy_url:
            raise PatchbayError(
                "Connection %r is of type %s, which has no SQLAlchemy URL." % (self.name, self.conn_type), "UNSUPPORTED"
            )
        return self._sqlalchemy_url

    def __repr__(self) -> str:
        return "<Connection %s type=%s host=%r port=%r schema=%r login=%r password=%s extra=%r>" % (
            self.name,
            self.conn_type,
            self.host,
            self.port,
            self.schema,
            self.login,
            "'***'" if self.password else "None",
            sorted(self.extra),
        )

    __str__ = __repr__

