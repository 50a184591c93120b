"""Patchbay client for Python: connections by name, standard library only (Python >= 3.8).

Copy this one file next to your code (or onto PYTHONPATH) and::

    import patchbay

    conn = patchbay.connection("warehouse")   # reads PATCHBAY_URL and PATCHBAY_TOKEN
    conn.host, conn.port, conn.login, conn.password, conn.extra
    engine = sqlalchemy.create_engine(conn.sqlalchemy_url())
    patchbay.uri("warehouse")                 # the Airflow URI, as Airflow writes it

As an Airflow (>= 2.3) secrets backend, in airflow.cfg::

    [secrets]
    backend = patchbay.PatchbaySecretsBackend
    backend_kwargs = {"url": "https://patchbay.example.com", "token": "pbt_..."}

The token needs the RESOLVE scope. Resolved connections are cached per name for
``cache_ttl`` seconds (default 30). Errors are ``PatchbayError`` with ``.code``: the server's
code (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, RATE_LIMITED, ...) or CONFIG,
NETWORK, TIMEOUT, BAD_RESPONSE, UNSUPPORTED. No message or repr ever holds the token or a
password.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional, Tuple

__all__ = [
    "Client",
    "Connection",
    "PatchbayError",
    "PatchbaySecretsBackend",
    "connection",
    "uri",
    "sqlalchemy_url",
]

__version__ = "0.1.0"

_USER_AGENT = "patchbay-python/" + __version__
_RESOLVE_FIELDS = "name type description host port schema login password extra airflowUri"
_NOT_SET = object()


class PatchbayError(Exception):
    """An error from Patchbay or on the way to it; ``code`` says which."""

    def __init__(self, message: str, code: str, status: Optional[int] = None, field: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return "%s (%s)" % (self.message, self.code)

    def __repr__(self) -> str:
        return "PatchbayError(%r, code=%r)" % (self.message, self.code)


class Connection:
    """A resolved connection: every field with the secrets, as Airflow names them."""

    def __init__(self, data: Dict[str, Any]):
        self.name = data.get("name")  # type: str
        self.conn_id = self.name
        self.conn_type = data.get("type")  # type: str
        self.description = data.get("description")  # type: Optional[str]
        self.host = data.get("host")  # type: Optional[str]
        self.port = data.get("port")  # type: Optional[int]
        self.schema = data.get("schema")  # type: Optional[str]
        self.login = data.get("login")  # type: Optional[str]
        self.password = data.get("password")  # type: Optional[str]
        extra = data.get("extra")
        self.extra = dict(extra) if isinstance(extra, dict) else {}  # type: Dict[str, Any]
        self._airflow_uri = data.get("airflowUri")  # type: Optional[str]
        self._sqlalchemy_url = data.get("sqlalchemyUrl", _NOT_SET)

    @property
    def type(self) -> str:
        """The Patchbay type id (postgres, mysql, http, ...); the same as conn_type."""
        return self.conn_type

    @property
    def extra_dejson(self) -> Dict[str, Any]:
        """Airflow's name for the extra settings as a dict."""
        return self.extra

    def uri(self) -> str:
        """The connection as an Airflow URI, exactly as the server (and Airflow) writes it."""
        if not self._airflow_uri:
            raise PatchbayError("Patchbay sent no Airflow URI for connection %r." % self.name, "BAD_RESPONSE")
        return self._airflow_uri

    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL with the password, for database types (postgres, mysql, mssql, sqlite)."""
        if self._sqlalchemy_url is _NOT_SET:
            raise PatchbayError("This Patchbay server does not provide SQLAlchemy URLs yet; upgrade it.", "UNSUPPORTED")
        if not self._sqlalchemy_url:
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Patchbay never redirects; following one would send the token to another address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's signature
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Client:
    """A Patchbay client. Every argument falls back to its PATCHBAY_* variable."""

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        workspace: Optional[str] = None,
        timeout: float = 10,
        cache_ttl: float = 30,
    ):
        url = _pick(url, os.environ.get("PATCHBAY_URL"))
        if not url:
            raise PatchbayError(
                "No Patchbay URL: set PATCHBAY_URL (e.g. https://patchbay.example.com) or pass url=.", "CONFIG"
            )
        token = _pick(token, os.environ.get("PATCHBAY_TOKEN"))
        if not token:
            raise PatchbayError("No Patchbay token: set PATCHBAY_TOKEN to an API token or pass token=.", "CONFIG")
        if any(ch.isspace() for ch in token):
            raise PatchbayError("The Patchbay token contains whitespace; check PATCHBAY_TOKEN.", "CONFIG")
        self.url = _base_url(url)
        self.workspace = _pick(workspace, os.environ.get("PATCHBAY_WORKSPACE"))
        self.timeout = float(timeout)
        self.cache_ttl = float(cache_ttl)
        #: How many HTTP requests this client has sent (cache hits send none).
        self.request_count = 0
        self.__token = token
        self._cache = {}  # type: Dict[Tuple[str, str], Tuple[float, Any]]
        self._lock = threading.Lock()
        self._sqlalchemy_supported = True

    def __repr__(self) -> str:
        return "<patchbay.Client url=%r workspace=%r>" % (self.url, self.workspace)

    # -- public API ------------------------------------------------------------------------

    def connection(self, conn_id: str) -> Connection:
        """Resolves a connection by name (cached for cache_ttl seconds)."""
        _check_name(conn_id)
        return self._cached(("connection", conn_id), lambda: Connection(self._resolve(conn_id)))

    def uri(self, conn_id: str) -> str:
        return self.connection(conn_id).uri()

    def sqlalchemy_url(self, conn_id: str) -> str:
        return self.connection(conn_id).sqlalchemy_url()

    def airflow_json(self, conn_id: str) -> Optional[str]:
        """Airflow's JSON form of a connection (GET /api/v1/connections/{name}), or None when
        there is no connection of that name. Cached like connection()."""
        _check_name(conn_id)

        def load():
            try:
                body = self._rest(conn_id)
            except PatchbayError as error:
                if error.code == "NOT_FOUND":
                    return None
                raise
            try:
                return json.dumps(json.loads(body))
            except ValueError:
                raise PatchbayError("Patchbay answered with something other than JSON.", "BAD_RESPONSE") from None

        return self._cached(("airflow_json", conn_id), load)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- internals ---------------------------------------------------------------------------

    def _cached(self, key, load):
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = load()
        # A connection that is not there yet (None) is asked for again next time.
        if self.cache_ttl > 0 and value is not None:
            with self._lock:
                self._cache[key] = (time.monotonic() + self.cache_ttl, value)
        return value

    def _resolve(self, conn_id: str) -> Dict[str, Any]:
        fields = _RESOLVE_FIELDS + (" sqlalchemyUrl" if self._sqlalchemy_supported else "")
        query = "query($name: String!, $workspace: String) { resolveConnection(name: $name, workspace: $workspace) { %s } }"
        try:
            data = self._graphql(query % fields, {"name": conn_id, "workspace": self.workspace})
        except PatchbayError as error:
            # A server from before sqlalchemyUrl refuses the whole query; ask it without.
            if self._sqlalchemy_supported and error.code == "GRAPHQL_VALIDATION_FAILED" and '"sqlalchemyUrl"' in error.message:
                self._sqlalchemy_supported = False
                return self._resolve(conn_id)
            if error.code in ("NETWORK", "TIMEOUT", "BAD_RESPONSE"):
                raise
            hint = " Set PATCHBAY_WORKSPACE or pass workspace=." if error.field == "workspace" else ""
            raise PatchbayError(
                "Could not resolve connection %r: %s%s" % (conn_id, error.message, hint), error.code, error.status, error.field
            ) from None
        resolved = data.get("resolveConnection")
        if not isinstance(resolved, dict):
            raise PatchbayError("Patchbay answered without the connection.", "BAD_RESPONSE")
        return resolved

    def _graphql(self, query: str, variables: Dict[str, Any]) -> Dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode("utf-8")
        status, text = self._send(self.url + "/graphql", body, {"Content-Type": "application/json"})
        try:
            payload = json.loads(text)
        except ValueError:
            raise PatchbayError(
                "%s/graphql answered HTTP %d with something other than JSON; is PATCHBAY_URL right?" % (self.url, status),
                "BAD_RESPONSE",
                status,
            ) from None
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            extensions = first.get("extensions") or {}
            raise PatchbayError(
                self._scrub(str(first.get("message") or "Patchbay reported an error.")),
                str(extensions.get("code") or "INTERNAL_SERVER_ERROR"),
                status,
                extensions.get("field"),
            )
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise PatchbayError("Patchbay answered HTTP %d without data." % status, "BAD_RESPONSE", status)
        return data

    def _rest(self, conn_id: str, fmt: Optional[str] = None) -> str:
        query = {}
        if fmt:
            query["format"] = fmt
        if self.workspace:
            query["workspace"] = self.workspace
        url = self.url + "/api/v1/connections/" + urllib.parse.quote(conn_id, safe="")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        status, text = self._send(url, None, {})
        if status == 200:
            return text
        try:
            error = json.loads(text).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        raise PatchbayError(
            self._scrub(str(error.get("message") or "Patchbay answered HTTP %d." % status)),
            str(error.get("code") or "BAD_RESPONSE"),
            status,
            error.get("field"),
        )

    def _send(self, url: str, body: Optional[bytes], headers: Dict[str, str]) -> Tuple[int, str]:
        headers = dict(headers)
        headers["Authorization"] = "Bearer " + self.__token
        headers["Accept"] = "application/json, text/plain"
        headers["User-Agent"] = _USER_AGENT
        request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
        self.request_count += 1
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            status = error.code
            if 300 <= status < 400:
                raise PatchbayError(
                    "Patchbay at %s answered with a redirect (HTTP %d); set PATCHBAY_URL to the final address."
                    % (self.url, status),
                    "BAD_RESPONSE",
                    status,
                ) from None
            try:
                text = error.read().decode("utf-8", "replace")
            except Exception:  # a broken body is still an HTTP error
                text = ""
            finally:
                error.close()
            return status, text
        except (socket.timeout, TimeoutError):
            raise PatchbayError("Patchbay at %s did not answer within %g s." % (self.url, self.timeout), "TIMEOUT") from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise PatchbayError(
                    "Patchbay at %s did not answer within %g s." % (self.url, self.timeout), "TIMEOUT"
                ) from None
            raise PatchbayError(self._scrub("Could not reach Patchbay at %s: %s." % (self.url, reason)), "NETWORK") from None
        except (OSError, ValueError) as error:
            raise PatchbayError(self._scrub("Could not reach Patchbay at %s: %s." % (self.url, error)), "NETWORK") from None

    def _scrub(self, text: str) -> str:
        token = self.__token
        for form in (token, urllib.parse.quote(token, safe="")):
            text = text.replace(form, "***")
        return text


# -- module-level helpers over a default client from the environment --------------------------

_default = None  # type: Optional[Tuple[Tuple[Optional[str], ...], Client]]
_default_lock = threading.Lock()


def _default_client() -> Client:
    """One client per PATCHBAY_URL / PATCHBAY_TOKEN / PATCHBAY_WORKSPACE, so its cache is shared."""
    global _default
    key = tuple(os.environ.get(name) for name in ("PATCHBAY_URL", "PATCHBAY_TOKEN", "PATCHBAY_WORKSPACE"))
    with _default_lock:
        if _default is None or _default[0] != key:
            _default = (key, Client())
        return _default[1]


def connection(conn_id: str) -> Connection:
    """Resolves a connection by name with PATCHBAY_URL and PATCHBAY_TOKEN."""
    return _default_client().connection(conn_id)


def uri(conn_id: str) -> str:
    """The connection's Airflow URI."""
    return _default_client().uri(conn_id)


def sqlalchemy_url(conn_id: str) -> str:
    """The connection's SQLAlchemy URL (database types only)."""
    return _default_client().sqlalchemy_url(conn_id)


# -- Airflow secrets backend --------------------------------------------------------------------

try:  # pragma: no cover - depends on the environment
    from airflow.secrets import BaseSecretsBackend as _SecretsBase  # type: ignore
except Exception:  # ImportError, or an Airflow that fails to initialise: stay importable
    _SecretsBase = object


class PatchbaySecretsBackend(_SecretsBase):  # type: ignore[misc, valid-type]
    """Airflow secrets backend: connections come from Patchbay by conn_id.

    airflow.cfg::

        [secrets]
        backend = patchbay.PatchbaySecretsBackend
        backend_kwargs = {"url": "https://patchbay.example.com", "token": "pbt_..."}

    url, token and workspace fall back to PATCHBAY_URL, PATCHBAY_TOKEN, PATCHBAY_WORKSPACE;
    ``timeout`` and ``cache_ttl`` may be given too. Variables and config are not served
    (None), so Airflow looks for them in its next backend.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, workspace: Optional[str] = None, **kwargs: Any):
        super().__init__()
        options = {k: kwargs.pop(k) for k in ("timeout", "cache_ttl") if k in kwargs}
        self.client = Client(url=url, token=token, workspace=workspace, **options)

    def get_conn_value(self, conn_id: str) -> Optional[str]:
        """Airflow's JSON form of the connection, or None when Patchbay has no such conn_id."""
        return self.client.airflow_json(conn_id)

    def get_variable(self, key: str) -> Optional[str]:
        return None

    def get_config(self, key: str) -> Optional[str]:
        return None

    def __repr__(self) -> str:
        return "<PatchbaySecretsBackend url=%r workspace=%r>" % (self.client.url, self.client.workspace)


# -- helpers ------------------------------------------------------------------------------------


def _pick(*values: Optional[str]) -> Optional[str]:
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def _base_url(raw: str) -> str:
    parts = urllib.parse.urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PatchbayError("PATCHBAY_URL must be an http:// or https:// URL, e.g. https://patchbay.example.com.", "CONFIG")
    if "@" in parts.netloc:
        raise PatchbayError("PATCHBAY_URL must not carry credentials; send the token as PATCHBAY_TOKEN.", "CONFIG")
    path = parts.path.rstrip("/")
    if path.endswith("/graphql"):
        path = path[: -len("/graphql")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _check_name(conn_id: Any) -> None:
    if not isinstance(conn_id, str) or not conn_id:
        raise PatchbayError("A connection name (conn_id) is required.", "BAD_USER_INPUT", field="name")
