"""Checks of the client's settings and arguments, before anything is sent."""

from __future__ import annotations

import urllib.parse
from typing import Any, Optional

from .errors import PatchbayError

# Environment and dialect names go into a query string; the server decides which exist.
_MAX_OPTION_LENGTH = 100


def pick(*values: Optional[str]) -> Optional[str]:
    """The first value that is set and not blank, stripped."""
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def base_url(raw: str) -> str:
    """PATCHBAY_URL without a trailing slash or /graphql; refuses anything but http(s)."""
    parts = urllib.parse.urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PatchbayError("PATCHBAY_URL must be an http:// or https:// URL, e.g. https://patchbay.example.com.", "CONFIG")
    if "@" in parts.netloc:
        raise PatchbayError("PATCHBAY_URL must not carry credentials; send the token as PATCHBAY_TOKEN.", "CONFIG")
    path = parts.path.rstrip("/")
    if path.endswith("/graphql"):
        path = path[: -len("/graphql")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def check_name(conn_id: Any) -> str:
    if not isinstance(conn_id, str) or not conn_id:
        raise PatchbayError("A connection name (conn_id) is required.", "BAD_USER_INPUT", field="name")
    if not _encodable(conn_id) or any(not ch.isprintable() for ch in conn_id):
        raise PatchbayError("A connection name cannot hold control characters.", "BAD_USER_INPUT", field="name")
    return conn_id


def check_option(value: Any, what: str, variable: Optional[str] = None) -> Optional[str]:
    """An optional name-like setting (environment, dialect): None, or printable text without spaces."""
    if value is None:
        return None
    where = " (%s)" % variable if variable else ""
    if not isinstance(value, str):
        raise PatchbayError("The %s%s must be text." % (what, where), "CONFIG", field=what)
    if (
        not value
        or len(value) > _MAX_OPTION_LENGTH
        or any(ch.isspace() or not ch.isprintable() for ch in value)
        or not _encodable(value)
    ):
        raise PatchbayError(
            "The %s%s must be 1 to %d printable characters without spaces." % (what, where, _MAX_OPTION_LENGTH),
            "CONFIG",
            field=what,
        )
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
