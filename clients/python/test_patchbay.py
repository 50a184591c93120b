"""Tests of patchbay.py against a running Patchbay server.

    PATCHBAY_URL=http://127.0.0.1:4000 PATCHBAY_TOKEN=pbt_... \\
    PATCHBAY_TEST_CONNECTION='{"name": "warehouse", "conn_type": "postgres", "host": ..., "password": ...}' \\
    python3 -m unittest -v clients/python/test_patchbay.py

PATCHBAY_TOKEN must have the RESOLVE scope in the workspace holding the connection that
PATCHBAY_TEST_CONNECTION describes (Airflow's JSON form: name, conn_type, description,
host, port, schema, login, password, extra). test/clients/python-client.test.ts sets all this
up against a fresh server and runs this file. Without the variables every test is skipped.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import traceback
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import patchbay  # noqa: E402

URL = os.environ.get("PATCHBAY_URL", "")
TOKEN = os.environ.get("PATCHBAY_TOKEN", "")
EXPECTED = json.loads(os.environ.get("PATCHBAY_TEST_CONNECTION") or "null")
MISSING = "no-such-connection-%s" % os.getpid()
WRONG_TOKEN = "pbt_" + "0123456789abcdef" * 3


def setUpModule():
    if not (URL and TOKEN and EXPECTED):
        raise unittest.SkipTest("set PATCHBAY_URL, PATCHBAY_TOKEN and PATCHBAY_TEST_CONNECTION to run these tests")


def raw_graphql(query, variables):
    """GraphQL without the client, to compare the client's answers with the server's own."""
    request = urllib.request.Request(
        URL.rstrip("/") + "/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # validation errors come with 400
        return json.loads(error.read())


def raw_rest(name, query=""):
    request = urllib.request.Request(
        URL.rstrip("/") + "/api/v1/connections/" + urllib.parse.quote(name, safe="") + query,
        headers={"Authorization": "Bearer " + TOKEN},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def server_field(field):
    """The server's own value of a ResolvedConnection field, or None when it lacks the field."""
    body = raw_graphql(
        "query($n: String!) { resolveConnection(name: $n) { %s } }" % field, {"n": EXPECTED["name"]}
    )
    if body.get("errors"):
        return None
    return body["data"]["resolveConnection"][field]


class ConnectionTest(unittest.TestCase):
    def setUp(self):
        self.client = patchbay.Client(url=URL, token=TOKEN)

    def test_fields_include_the_secrets(self):
        conn = self.client.connection(EXPECTED["name"])
        self.assertEqual(conn.name, EXPECTED["name"])
        self.assertEqual(conn.conn_id, EXPECTED["name"])
        self.assertEqual(conn.conn_type, EXPECTED["conn_type"])
        self.assertEqual(conn.type, EXPECTED["conn_type"])
        self.assertEqual(conn.description, EXPECTED["description"])
        self.assertEqual(conn.host, EXPECTED["host"])
        self.assertEqual(conn.port, EXPECTED["port"])
        self.assertEqual(conn.schema, EXPECTED["schema"])
        self.assertEqual(conn.login, EXPECTED["login"])
        self.assertEqual(conn.password, EXPECTED["password"])
        self.assertEqual(conn.extra, EXPECTED["extra"])
        self.assertIsInstance(conn.extra, dict)
        self.assertEqual(conn.extra_dejson, EXPECTED["extra"])

    def test_uri_is_the_servers_airflow_uri(self):
        conn = self.client.connection(EXPECTED["name"])
        self.assertEqual(conn.uri(), server_field("airflowUri"))
        self.assertEqual(conn.uri(), raw_rest(EXPECTED["name"], "?format=uri"))
        self.assertEqual(self.client.uri(EXPECTED["name"]), conn.uri())
        # The hostile password survives Airflow's percent-encoding.
        userinfo = urllib.parse.urlsplit(conn.uri()).netloc.rsplit("@", 1)[0]
        self.assertEqual(urllib.parse.unquote(userinfo.split(":", 1)[1]), EXPECTED["password"])

    def test_sqlalchemy_url(self):
        expected = server_field("sqlalchemyUrl")
        conn = self.client.connection(EXPECTED["name"])
        if expected is None:
            with self.assertRaises(patchbay.PatchbayError) as caught:
                conn.sqlalchemy_url()
            self.assertEqual(caught.exception.code, "UNSUPPORTED")
            self.skipTest("the server does not provide sqlalchemyUrl yet")
        self.assertEqual(conn.sqlalchemy_url(), expected)
        self.assertEqual(self.client.sqlalchemy_url(EXPECTED["name"]), expected)
        self.assertTrue(expected.startswith("postgresql://"), expected)
        userinfo = urllib.parse.urlsplit(expected).netloc.rsplit("@", 1)[0]
        self.assertEqual(urllib.parse.unquote(userinfo.split(":", 1)[1]), EXPECTED["password"])

    def test_repr_masks_the_password(self):
        conn = self.client.connection(EXPECTED["name"])
        for text in (repr(conn), str(conn), repr(self.client)):
            self.assertNotIn(EXPECTED["password"], text)
            self.assertNotIn(TOKEN, text)
        self.assertIn("***", repr(conn))


class CacheTest(unittest.TestCase):
    def test_a_cache_hit_sends_no_request(self):
        client = patchbay.Client(url=URL, token=TOKEN)
        first = client.connection(EXPECTED["name"])
        self.assertEqual(client.request_count, 1)
        second = client.connection(EXPECTED["name"])
        self.assertIs(second, first)
        client.uri(EXPECTED["name"])
        self.assertEqual(client.request_count, 1)
        client.clear_cache()
        client.connection(EXPECTED["name"])
        self.assertEqual(client.request_count, 2)

    def test_cache_ttl_zero_asks_every_time(self):
        client = patchbay.Client(url=URL, token=TOKEN, cache_ttl=0)
        client.connection(EXPECTED["name"])
        client.connection(EXPECTED["name"])
        self.assertEqual(client.request_count, 2)

    def test_errors_are_not_cached(self):
        client = patchbay.Client(url=URL, token=TOKEN)
        for _ in range(2):
            with self.assertRaises(patchbay.PatchbayError):
                client.connection(MISSING)
        self.assertEqual(client.request_count, 2)


class ErrorTest(unittest.TestCase):
    def test_not_found(self):
        with self.assertRaises(patchbay.PatchbayError) as caught:
            patchbay.Client(url=URL, token=TOKEN).connection(MISSING)
        self.assertEqual(caught.exception.code, "NOT_FOUND")
        self.assertIn(MISSING, str(caught.exception))

    def test_wrong_token_is_unauthenticated_and_never_shown(self):
        for call in (lambda c: c.connection(EXPECTED["name"]), lambda c: c.airflow_json(EXPECTED["name"])):
            client = patchbay.Client(url=URL, token=WRONG_TOKEN)
            with self.assertRaises(patchbay.PatchbayError) as caught:
                call(client)
            error = caught.exception
            self.assertEqual(error.code, "UNAUTHENTICATED")
            shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            for text in (str(error), repr(error), shown, repr(client)):
                self.assertNotIn(WRONG_TOKEN, text)
                self.assertNotIn(TOKEN, text)

    def test_missing_settings_name_the_variable(self):
        saved = {k: os.environ.pop(k) for k in ("PATCHBAY_URL", "PATCHBAY_TOKEN") if k in os.environ}
        try:
            with self.assertRaises(patchbay.PatchbayError) as caught:
                patchbay.Client(token=TOKEN)
            self.assertEqual(caught.exception.code, "CONFIG")
            self.assertIn("PATCHBAY_URL", str(caught.exception))
            with self.assertRaises(patchbay.PatchbayError) as caught:
                patchbay.Client(url=URL)
            self.assertIn("PATCHBAY_TOKEN", str(caught.exception))
            with self.assertRaises(patchbay.PatchbayError) as caught:
                patchbay.connection(EXPECTED["name"])
            self.assertEqual(caught.exception.code, "CONFIG")
        finally:
            os.environ.update(saved)

    def test_unreachable_and_silent_servers(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        try:
            slow = patchbay.Client(url="http://127.0.0.1:%d" % port, token=WRONG_TOKEN, timeout=0.3)
            with self.assertRaises(patchbay.PatchbayError) as caught:
                slow.connection(EXPECTED["name"])
            self.assertEqual(caught.exception.code, "TIMEOUT")
        finally:
            listener.close()
        closed = patchbay.Client(url="http://127.0.0.1:%d" % port, token=WRONG_TOKEN, timeout=2)
        with self.assertRaises(patchbay.PatchbayError) as caught:
            closed.connection(EXPECTED["name"])
        self.assertEqual(caught.exception.code, "NETWORK")
        self.assertNotIn(WRONG_TOKEN, str(caught.exception))


class ModuleHelpersTest(unittest.TestCase):
    def test_helpers_read_the_environment(self):
        conn = patchbay.connection(EXPECTED["name"])
        self.assertEqual(conn.password, EXPECTED["password"])
        self.assertEqual(patchbay.uri(EXPECTED["name"]), conn.uri())
        expected = server_field("sqlalchemyUrl")
        if expected is not None:
            self.assertEqual(patchbay.sqlalchemy_url(EXPECTED["name"]), expected)


class SecretsBackendTest(unittest.TestCase):
    def setUp(self):
        self.backend = patchbay.PatchbaySecretsBackend(url=URL, token=TOKEN)

    def test_get_conn_value_is_airflows_json(self):
        value = self.backend.get_conn_value(EXPECTED["name"])
        self.assertIsInstance(value, str)
        parsed = json.loads(value)
        self.assertEqual(parsed, json.loads(raw_rest(EXPECTED["name"])))
        self.assertEqual(
            parsed,
            {
                "conn_type": EXPECTED["conn_type"],
                "description": EXPECTED["description"],
                "host": EXPECTED["host"],
                "login": EXPECTED["login"],
                "password": EXPECTED["password"],
                "schema": EXPECTED["schema"],
                "port": EXPECTED["port"],
                "extra": EXPECTED["extra"],
            },
        )

    def test_not_found_is_none(self):
        self.assertIsNone(self.backend.get_conn_value(MISSING))

    def test_other_errors_raise(self):
        backend = patchbay.PatchbaySecretsBackend(url=URL, token=WRONG_TOKEN)
        with self.assertRaises(patchbay.PatchbayError) as caught:
            backend.get_conn_value(EXPECTED["name"])
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")
        self.assertEqual(caught.exception.status, 401)
        self.assertNotIn(WRONG_TOKEN, str(caught.exception) + repr(backend))

    def test_caches_like_the_client(self):
        self.backend.get_conn_value(EXPECTED["name"])
        self.backend.get_conn_value(EXPECTED["name"])
        self.assertEqual(self.backend.client.request_count, 1)

    def test_kwargs_and_environment(self):
        backend = patchbay.PatchbaySecretsBackend(timeout=5, cache_ttl=0)  # url and token from the environment
        self.assertEqual(backend.client.timeout, 5)
        self.assertIsNotNone(backend.get_conn_value(EXPECTED["name"]))
        self.assertIsNone(backend.get_variable("anything"))
        self.assertIsNone(backend.get_config("anything"))

    def test_importable_without_airflow(self):
        try:
            import airflow  # noqa: F401
        except ImportError:
            self.assertIs(patchbay.PatchbaySecretsBackend.__mro__[1], object)
        else:  # pragma: no cover - only where Airflow is installed
            from airflow.secrets import BaseSecretsBackend

            self.assertTrue(issubclass(patchbay.PatchbaySecretsBackend, BaseSecretsBackend))
            conn = self.backend.get_connection(EXPECTED["name"])
            self.assertEqual(conn.password, EXPECTED["password"])


class ThreadsTest(unittest.TestCase):
    def test_one_client_from_many_threads(self):
        client = patchbay.Client(url=URL, token=TOKEN)
        results = []

        def work():
            results.append(client.connection(EXPECTED["name"]).password)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [EXPECTED["password"]] * 4)


if __name__ == "__main__":
    unittest.main()
