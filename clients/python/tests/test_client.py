"""The client against a running Patchbay server: fields, URIs, the cache, errors, threads.
See _live.py for the settings."""

from __future__ import annotations

import os
import socket
import threading
import traceback
import unittest
import urllib.parse

import patchbay
from _live import EXPECTED, MISSING, TOKEN, URL, WRONG_TOKEN, raw_rest, require_server, server_field


def setUpModule() -> None:
    require_server()


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
        self.assertTrue(expected.startswith(("postgresql://", "postgresql+psycopg2://")), expected)
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


class HostileNameTest(unittest.TestCase):
    def test_odd_names_are_refused_or_not_found(self):
        client = patchbay.Client(url=URL, token=TOKEN, cache_ttl=0)
        for name in ("\ud800", "a\x00b", "../../graphql", "%2e%2e", "x" * 5000, "__proto__"):
            with self.assertRaises(patchbay.PatchbayError) as caught:
                client.connection(name)
            self.assertIn(caught.exception.code, ("BAD_USER_INPUT", "NOT_FOUND"), repr(name[:20]))
            try:
                self.assertIsNone(client.airflow_json(name))
            except patchbay.PatchbayError as error:
                self.assertEqual(error.code, "BAD_USER_INPUT", repr(name[:20]))
        for name in ("", None, 42):
            with self.assertRaises(patchbay.PatchbayError) as caught:
                client.connection(name)  # type: ignore[arg-type]
            self.assertEqual(caught.exception.field, "name")


class ModuleHelpersTest(unittest.TestCase):
    def test_helpers_read_the_environment(self):
        conn = patchbay.connection(EXPECTED["name"])
        self.assertEqual(conn.password, EXPECTED["password"])
        self.assertEqual(patchbay.uri(EXPECTED["name"]), conn.uri())
        expected = server_field("sqlalchemyUrl")
        if expected is not None:
            self.assertEqual(patchbay.sqlalchemy_url(EXPECTED["name"]), expected)


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
