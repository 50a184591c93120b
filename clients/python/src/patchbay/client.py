"""The Patchbay client: resolves connections and secrets by name, with a per-name cache."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from .connection import Connection
from .errors import PatchbayError
from .options import base_url, check_name, check_option, pick
from .shapes import as_list, as_object, as_str
from .transport import Transport
from .version import __version__

T = TypeVar("T")

#: The connection type whose one secret field get_variable() and secret() serve.
SECRET_TYPE = "secret"

_RESOLVE_FIELDS = "name type description host port schema login password extra airflowUri"
_REST_PATH = "/api/v1/connections/"


class Client:
    """A Patchbay client. url, token, workspace and environment fall back to PATCHBAY_URL,
    PATCHBAY_TOKEN, PATCHBAY_WORKSPACE and PATCHBAY_ENVIRONMENT.

    ``environment`` resolves that environment's values (sent only when set). ``dialect`` picks
    the Airflow URI dialect of uri() (sent only when set; the server's default otherwise).
    Resolved connections are cached per name for ``cache_ttl`` seconds; every request has a
    deadline of ``timeout`` seconds.
    """

    url: str
    workspace: Optional[str]
    environment: Optional[str]
    dialect: Optional[str]
    timeout: float
    cache_ttl: float

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        workspace: Optional[str] = None,
        timeout: float = 10,
        cache_ttl: float = 30,
        environment: Optional[str] = None,
        dialect: Optional[str] = None,
    ) -> None:
        url = pick(url, os.environ.get("PATCHBAY_URL"))
        if not url:
            raise PatchbayError(
                "No Patchbay URL: set PATCHBAY_URL (e.g. https://patchbay.example.com) or pass url=.", "CONFIG"
            )
        token = pick(token, os.environ.get("PATCHBAY_TOKEN"))
        if not token:
            raise PatchbayError("No Patchbay token: set PATCHBAY_TOKEN to an API token or pass token=.", "CONFIG")
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            raise PatchbayError("The Patchbay token contains whitespace or control characters; check PATCHBAY_TOKEN.", "CONFIG")
        self.url = base_url(url)
        self.workspace = pick(workspace, os.environ.get("PATCHBAY_WORKSPACE"))
        self.environment = check_option(pick(environment, os.environ.get("PATCHBAY_ENVIRONMENT")), "environment", "PATCHBAY_ENVIRONMENT")
        self.dialect = check_option(dialect, "dialect")
        self.timeout = float(timeout)
        self.cache_ttl = float(cache_ttl)
        if not self.timeout > 0:
            raise PatchbayError("timeout must be a positive number of seconds.", "CONFIG", field="timeout")
        self._transport = Transport(self.url, token, self.timeout, "patchbay-python/" + __version__)
        self._cache: Dict[Tuple[str, ...], Tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._sqlalchemy_supported = True
        self._secret_field: Optional[str] = None

    def __repr__(self) -> str:
        return "<patchbay.Client url=%r workspace=%r environment=%r>" % (self.url, self.workspace, self.environment)

    @property
    def request_count(self) -> int:
        """How many HTTP requests this client has sent (cache hits send none)."""
        return self._transport.request_count

    # -- public API ------------------------------------------------------------------------

    def connection(self, conn_id: str) -> Connection:
        """Resolves a connection by name (cached for cache_ttl seconds)."""
        name = check_name(conn_id)
        return self._cached(("connection", name), lambda: Connection(self._resolve(name)))

    def uri(self, conn_id: str, dialect: Optional[str] = None) -> str:
        """The connection's Airflow URI. With a dialect (here or the client's), the server writes
        that dialect (GET ...?format=uri&dialect=); without, its default."""
        name = check_name(conn_id)
        chosen = check_option(dialect, "dialect") or self.dialect
        if chosen is None:
            return self.connection(name).uri()
        return self._cached(("uri", name, chosen), lambda: self._rest(name, format="uri", dialect=chosen))

    def sqlalchemy_url(self, conn_id: str) -> str:
        return self.connection(conn_id).sqlalchemy_url()

    def airflow_json(self, conn_id: str) -> Optional[str]:
        """Airflow's JSON form of a connection (GET /api/v1/connections/{name}), or None when
        there is no connection of that name. Cached like connection()."""
        name = check_name(conn_id)

        def load() -> Optional[str]:
            try:
                body = self._rest(name)
            except PatchbayError as error:
                if error.code == "NOT_FOUND":
                    return None
                raise
            try:
                return json.dumps(json.loads(body))
            except ValueError:
                raise PatchbayError("Patchbay answered with something other than JSON.", "BAD_RESPONSE") from None

        return self._cached(("airflow_json", name), load)

    def secret(self, name: str) -> Optional[str]:
        """The value of the connection ``name`` if it is of type ``secret``; None when there is
        no connection of that name or it is of another type."""
        try:
            conn = self.connection(name)
        except PatchbayError as error:
            if error.code == "NOT_FOUND":
                return None
            raise
        if conn.conn_type != SECRET_TYPE:
            return None
        return _field_value(conn, self._secret_field_name())

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- internals ---------------------------------------------------------------------------

    def _cached(self, key: Tuple[str, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                value: T = hit[1]
                return value
        value = load()
        # A connection that is not there yet (None) is asked for again next time.
        if self.cache_ttl > 0 and value is not None:
            with self._lock:
                self._cache[key] = (time.monotonic() + self.cache_ttl, value)
        return value

    def _resolve(self, name: str) -> Dict[str, Any]:
        fields = _RESOLVE_FIELDS + (" sqlalchemyUrl" if self._sqlalchemy_supported else "")
        declared = "$name: String!, $workspace: String"
        arguments = "name: $name, workspace: $workspace"
        variables: Dict[str, Any] = {"name": name, "workspace": self.workspace}
        if self.environment is not None:
            declared += ", $environment: String"
            arguments += ", environment: $environment"
            variables["environment"] = self.environment
        query = "query(%s) { resolveConnection(%s) { %s } }" % (declared, arguments, fields)
        try:
            data = self._transport.graphql(query, variables)
        except PatchbayError as error:
            if error.code == "GRAPHQL_VALIDATION_FAILED":
                # A server from before sqlalchemyUrl refuses the whole query; ask it without.
                if self._sqlalchemy_supported and '"sqlalchemyUrl"' in error.message:
                    self._sqlalchemy_supported = False
                    return self._resolve(name)
                if '"environment"' in error.message:
                    raise PatchbayError(
                        "This Patchbay server does not resolve environments yet; unset PATCHBAY_ENVIRONMENT"
                        " (environment=) or upgrade the server.",
                        "UNSUPPORTED",
                        error.status,
                        "environment",
                    ) from None
            if error.code in ("NETWORK", "TIMEOUT", "BAD_RESPONSE"):
                raise
            hint = " Set PATCHBAY_WORKSPACE or pass workspace=." if error.field == "workspace" else ""
            raise PatchbayError(
                "Could not resolve connection %r: %s%s" % (name, error.message, hint), error.code, error.status, error.field
            ) from None
        resolved = data.get("resolveConnection")
        if not isinstance(resolved, dict):
            raise PatchbayError("Patchbay answered without the connection.", "BAD_RESPONSE")
        return as_object(resolved)

    def _rest(self, name: str, format: Optional[str] = None, dialect: Optional[str] = None) -> str:
        path = _REST_PATH + urllib.parse.quote(name, safe="")
        query = {"format": format, "workspace": self.workspace, "environment": self.environment, "dialect": dialect}
        return self._transport.rest(path, query)

    def _secret_field_name(self) -> str:
        """The field of the ``secret`` type that holds its value, as the server's registry says."""
        if self._secret_field is None:
            data = self._transport.graphql("query { connectionTypes { id fields { name secret } } }", {})
            secret_fields: List[str] = []
            for entry in map(as_object, as_list(data.get("connectionTypes"))):
                if entry.get("id") == SECRET_TYPE:
                    for field in map(as_object, as_list(entry.get("fields"))):
                        name = as_str(field.get("name"))
                        if field.get("secret") is True and name:
                            secret_fields.append(name)
            if "password" in secret_fields or not secret_fields:
                self._secret_field = "password"
            else:
                self._secret_field = secret_fields[0]
        return self._secret_field


def _field_value(conn: Connection, field: str) -> Optional[str]:
    if field.startswith("extra."):
        value: Any = conn.extra.get(field[len("extra.") :])
    else:
        value = {"host": conn.host, "schema": conn.schema, "login": conn.login, "password": conn.password}.get(field)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)
