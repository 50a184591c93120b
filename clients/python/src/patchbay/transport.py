"""HTTP to one Patchbay server: the token on every request, a deadline, no redirects, and
errors that never show the token."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import PatchbayError
from .shapes import as_list, as_object, as_str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Patchbay never redirects; following one would send the token to another address."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Transport:
    """Sends GraphQL and REST requests with the token; counts them."""

    def __init__(self, url: str, token: str, timeout: float, user_agent: str) -> None:
        self.url = url
        self.timeout = timeout
        self.request_count = 0
        self._token = token
        self._user_agent = user_agent
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return "<patchbay.Transport url=%r>" % self.url

    def graphql(self, query: str, variables: Mapping[str, Any]) -> Dict[str, Any]:
        """The data of a GraphQL answer; a GraphQL error raises PatchbayError with its code."""
        body = json.dumps({"query": query, "variables": dict(variables)}).encode("utf-8")
        status, text = self._send(self.url + "/graphql", body, {"Content-Type": "application/json"})
        try:
            payload = json.loads(text)
        except ValueError:
            raise PatchbayError(
                "%s/graphql answered HTTP %d with something other than JSON; is PATCHBAY_URL right?" % (self.url, status),
                "BAD_RESPONSE",
                status,
            ) from None
        errors = as_list(as_object(payload).get("errors"))
        if errors:
            first = as_object(errors[0])
            extensions = as_object(first.get("extensions"))
            raise PatchbayError(
                self.scrub(as_str(first.get("message")) or "Patchbay reported an error."),
                as_str(extensions.get("code")) or "INTERNAL_SERVER_ERROR",
                status,
                as_str(extensions.get("field")),
            )
        data = as_object(payload).get("data")
        if not isinstance(data, dict):
            raise PatchbayError("Patchbay answered HTTP %d without data." % status, "BAD_RESPONSE", status)
        return as_object(data)

    def rest(self, path: str, query: Mapping[str, Optional[str]]) -> str:
        """The body of a 200 answer to GET <url><path>?<query> (unset values left out)."""
        params = {key: value for key, value in query.items() if value is not None}
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        status, text = self._send(url, None, {})
        if status == 200:
            return text
        try:
            error = as_object(as_object(json.loads(text)).get("error"))
        except ValueError:
            error = {}
        raise PatchbayError(
            self.scrub(as_str(error.get("message")) or "Patchbay answered HTTP %d." % status),
            as_str(error.get("code")) or "BAD_RESPONSE",
            status,
            as_str(error.get("field")),
        )

    def scrub(self, text: str) -> str:
        """The text with the token (as sent, or percent-encoded) replaced by ***."""
        for form in (self._token, urllib.parse.quote(self._token, safe="")):
            text = text.replace(form, "***")
        return text

    def _send(self, url: str, body: Optional[bytes], headers: Dict[str, str]) -> Tuple[int, str]:
        headers = dict(headers)
        headers["Authorization"] = "Bearer " + self._token
        headers["Accept"] = "application/json, text/plain"
        headers["User-Agent"] = self._user_agent
        request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
        with self._count_lock:
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
            raise self._timeout() from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (socket.timeout, TimeoutError)):
                raise self._timeout() from None
            raise PatchbayError(self.scrub("Could not reach Patchbay at %s: %s." % (self.url, error.reason)), "NETWORK") from None
        except (OSError, ValueError) as error:
            raise PatchbayError(self.scrub("Could not reach Patchbay at %s: %s." % (self.url, error)), "NETWORK") from None

    def _timeout(self) -> PatchbayError:
        return PatchbayError("Patchbay at %s did not answer within %g s." % (self.url, self.timeout), "TIMEOUT")
