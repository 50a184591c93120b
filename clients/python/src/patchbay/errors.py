"""The one exception type the client raises."""

from __future__ import annotations

from typing import Optional


class PatchbayError(Exception):
    """An error from Patchbay or on the way to it; ``code`` says which.

    ``code`` is the server's (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT,
    RATE_LIMITED, ...) or one of the client's own: CONFIG, NETWORK, TIMEOUT, BAD_RESPONSE,
    UNSUPPORTED. No message ever holds the token or a password.
    """

    message: str
    code: str
    status: Optional[int]
    field: Optional[str]

    def __init__(self, message: str, code: str, status: Optional[int] = None, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return "%s (%s)" % (self.message, self.code)

    def __repr__(self) -> str:
        return "PatchbayError(%r, code=%r)" % (self.message, self.code)
