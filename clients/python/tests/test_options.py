"""The environment and dialect options: checked before anything is sent, sent only when set,
and a server that cannot honour an environment is an error, not a silent fallback.

What goes over the wire is read by a small recording HTTP server on 127.0.0.1 (the live server
ignores query parameters it does not know, so it cannot show what the client sent)."""

from __future__ import annotations

import http.server
import json
import os
import threading
import unittest
import urllib.parse
from typing import Any, Dict, List, Tuple

import patchbay
from _live import EXPECTED, TOKEN, URL, raw_graphql

RESOLVED = {
    "name": "recorded",
    "type": "generic",
    "description": None,
    "host": "h.example",
    "port": None,
    "schema": None,
    "login": None,
    "password": "pw",
    "extra": {},
    "airflowUri": "generic://:pw@h.example",
    "sqlalchemyUrl": None,
}


class RecordingServer:
    """Answers like Patchbay and records (method, path, query, GraphQL body) of every request."""

    def __init__(self) -> None:
        self.requests: List[Tuple[str, str, Dict[str, List[str]], Dict[str, Any]]] = []
        self.resolved: Dict[str, Any] = dict(RESOLVED)
        self.types: List[Dict[str, Any]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
                recorder.requests.append(("GET", parts.path, query, {}))
                if query.get("format") == ["uri"]:
                    self._answer("text/plain", b"generic://from-rest")
                else:
                    self._answer("application/json", json.dumps({"conn_type": "generic", "host": "h"}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                recorder.requests.append(("POST", self.path, {}, body))
                if "connectionTypes" in body["query"]:
                    data: Dict[str, Any] = {"connectionTypes": recorder.types}
                else:
                    data = {"resolveConnection": recorder.resolved}
                self._answer("application/json", json.dumps({"data": data}).encode())

            def _answer(self, content_type: str, payload: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WireTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = RecordingServer()
        self.saved = os.environ.pop("PATCHBAY_ENVIRONMENT", None)

    def tearDown(self) -> None:
        self.server.close()
        os.environ.pop("PATCHBAY_ENVIRONMENT", None)
        if self.saved is not None:
            os.environ["PATCHBAY_ENVIRONMENT"] = self.saved

    def client(self, **options: Any) -> patchbay.Client:
        return patchbay.Client(url=self.server.url, token="pbt_recorded", cache_ttl=0, **options)

    def test_nothing_extra_is_sent_when_unset(self) -> None:
        client = self.client()
        client.connection("recorded")
        client.airflow_json("recorded")
        client.uri("recorded")
        graphql, rest = self.server.requests[0], self.server.requests[1]
        self.assertNotIn("environment", graphql[3]["query"])
        self.assertNotIn("environment", graphql[3]["variables"])
        self.assertEqual(rest[1], "/api/v1/connections/recorded")
        self.assertEqual(rest[2], {})
        self.assertEqual(len(self.server.requests), 3)  # uri() without a dialect is GraphQL's airflowUri
        self.assertEqual(self.server.requests[2][0], "POST")

    def test_environment_goes_to_graphql_and_rest(self) -> None:
        client = self.client(environment="staging")
        self.assertEqual(client.connection("recorded").password, "pw")
        self.assertEqual(json.loads(client.airflow_json("recorded") or "{}"), {"conn_type": "generic", "host": "h"})
        graphql, rest = self.server.requests
        self.assertIn("environment: $environment", graphql[3]["query"])
        self.assertEqual(graphql[3]["variables"]["environment"], "staging")
        self.assertEqual(rest[2], {"environment": ["staging"]})

    def test_environment_from_the_variable_is_encoded_not_spliced(self) -> None:
        os.environ["PATCHBAY_ENVIRONMENT"] = "a&workspace=other#x"
        client = self.client(workspace="mine")
        self.assertEqual(client.environment, "a&workspace=other#x")
        client.airflow_json("recorded")
        self.assertEqual(self.server.requests[0][2], {"environment": ["a&workspace=other#x"], "workspace": ["mine"]})
        # An explicit argument wins over the variable.
        self.assertEqual(self.client(environment="prod").environment, "prod")

    def test_dialect_is_sent_only_for_uris(self) -> None:
        client = self.client(dialect="query-params")
        self.assertEqual(client.uri("recorded"), "generic://from-rest")
        client.airflow_json("recorded")
        uri_request, json_request = self.server.requests
        self.assertEqual(uri_request[2], {"format": ["uri"], "dialect": ["query-params"]})
        self.assertEqual(json_request[2], {})
        # Per call, overriding the client's; and through the module helper.
        self.assertEqual(client.uri("recorded", dialect="extra-json"), "generic://from-rest")
        self.assertEqual(self.server.requests[-1][2]["dialect"], ["extra-json"])

    def test_uris_of_different_dialects_are_cached_apart(self) -> None:
        client = patchbay.Client(url=self.server.url, token="pbt_recorded")
        client.uri("recorded", dialect="a")
        client.uri("recorded", dialect="a")
        client.uri("recorded", dialect="b")
        self.assertEqual([request[2]["dialect"] for request in self.server.requests], [["a"], ["b"]])


class SecretTypeTest(unittest.TestCase):
    """get_variable() / secret() against a server whose registry has the `secret` type (the live
    server may not have it yet): the value comes from the field the type marks secret."""

    def setUp(self) -> None:
        self.server = RecordingServer()

    def tearDown(self) -> None:
        self.server.close()

    def serve_secret(self, field: str, resolved: Dict[str, Any]) -> None:
        fields = [{"name": "description", "secret": False}, {"name": field, "secret": True}]
        self.server.types = [{"id": "postgres", "fields": [{"name": "password", "secret": True}]}, {"id": "secret", "fields": fields}]
        self.server.resolved = {**RESOLVED, "type": "secret", **resolved}

    def test_value_from_the_password_field(self) -> None:
        self.serve_secret("password", {"password": "s3cret"})
        backend = patchbay.PatchbaySecretsBackend(url=self.server.url, token="pbt_recorded", cache_ttl=0)
        self.assertEqual(backend.get_variable(key="api_key", team_name="analytics"), "s3cret")
        self.assertEqual(backend.get_variable(key="api_key", team_name="analytics"), "s3cret")
        type_queries = [r for r in self.server.requests if "connectionTypes" in r[3].get("query", "")]
        self.assertEqual(len(type_queries), 1, "the registry is asked once per client")

    def test_value_from_an_extra_field(self) -> None:
        self.serve_secret("extra.value", {"password": None, "extra": {"value": "from-extra"}})
        client = patchbay.Client(url=self.server.url, token="pbt_recorded")
        self.assertEqual(client.secret("api_key"), "from-extra")

    def test_other_types_are_not_variables(self) -> None:
        self.serve_secret("password", {"type": "generic", "password": "not-a-variable"})
        client = patchbay.Client(url=self.server.url, token="pbt_recorded")
        self.assertIsNone(client.secret("api_key"))
        self.assertFalse(any("connectionTypes" in r[3].get("query", "") for r in self.server.requests))


class OptionCheckTest(unittest.TestCase):
    def test_bad_values_are_refused_before_sending(self) -> None:
        for value in ("two words", "nul\x00", "\ud800", "x" * 101, "a\tb"):
            for option in ("environment", "dialect"):
                options: Dict[str, Any] = {option: value}
                with self.assertRaises(patchbay.PatchbayError) as caught:
                    patchbay.Client(url="http://127.0.0.1:9", token="pbt_x", **options)
                self.assertEqual(caught.exception.code, "CONFIG")
                self.assertEqual(caught.exception.field, option)
        client = patchbay.Client(url="http://127.0.0.1:9", token="pbt_x")
        with self.assertRaises(patchbay.PatchbayError) as caught:
            client.uri("anything", dialect="two words")
        self.assertEqual(caught.exception.code, "CONFIG")
        self.assertEqual(client.request_count, 0)

    def test_the_variable_is_named_when_it_is_wrong(self) -> None:
        saved = os.environ.get("PATCHBAY_ENVIRONMENT")
        os.environ["PATCHBAY_ENVIRONMENT"] = "bad value"
        try:
            with self.assertRaises(patchbay.PatchbayError) as caught:
                patchbay.Client(url="http://127.0.0.1:9", token="pbt_x")
            self.assertIn("PATCHBAY_ENVIRONMENT", str(caught.exception))
            os.environ["PATCHBAY_ENVIRONMENT"] = "   "  # blank is unset
            self.assertIsNone(patchbay.Client(url="http://127.0.0.1:9", token="pbt_x").environment)
        finally:
            if saved is None:
                os.environ.pop("PATCHBAY_ENVIRONMENT", None)
            else:
                os.environ["PATCHBAY_ENVIRONMENT"] = saved


@unittest.skipUnless(URL and TOKEN and EXPECTED, "needs a live server (see _live.py)")
class LiveEnvironmentTest(unittest.TestCase):
    def test_environment_against_this_server(self) -> None:
        probe = raw_graphql(
            "query($n: String!, $e: String) { resolveConnection(name: $n, environment: $e) { name } }",
            {"n": EXPECTED["name"], "e": "staging"},
        )
        codes = [error.get("extensions", {}).get("code") for error in probe.get("errors") or []]
        client = patchbay.Client(url=URL, token=TOKEN, environment="staging")
        if "GRAPHQL_VALIDATION_FAILED" in codes:
            # This server has no environments yet: the client says so instead of resolving the
            # connection's default values as if they were staging's.
            with self.assertRaises(patchbay.PatchbayError) as caught:
                client.connection(EXPECTED["name"])
            self.assertEqual(caught.exception.code, "UNSUPPORTED")
            self.assertEqual(caught.exception.field, "environment")
            self.assertIn("PATCHBAY_ENVIRONMENT", str(caught.exception))
            self.assertNotIn(TOKEN, str(caught.exception))
        else:
            # Fields an environment does not override fall back to the connection's own.
            self.assertEqual(client.connection(EXPECTED["name"]).password, EXPECTED["password"])
