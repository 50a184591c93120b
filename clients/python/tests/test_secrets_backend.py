"""The Airflow secrets backend, called the way Airflow calls it, against a live server.

Airflow is not installed here. Airflow 3.2.0's lookups are reproduced below: every backend is
asked with keywords, ``team_name`` included, and any exception a backend raises is swallowed
(the lookup then reports "isn't defined"), so these tests also check that nothing was swallowed.
Where Airflow is importable the backend subclasses its BaseSecretsBackend; that path is run in a
child Python with a stand-in ``airflow.secrets`` that behaves like Airflow 3.2.0's.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any, Callable, List, Optional

import patchbay
from _live import EXPECTED, MISSING, SECRET, TOKEN, URL, WRONG_TOKEN, raw_rest, require_server, server_type_ids

TEAM = "analytics"


def setUpModule() -> None:
    require_server()


def airflow_32_lookup(call: Callable[[Any], Any], backends: List[Any], swallowed: List[BaseException]) -> Any:
    """Airflow 3.2.0's loop over secrets backends: the first non-empty answer wins, and an
    exception only moves on to the next backend (recorded here so a test can see it)."""
    for backend in backends:
        try:
            value = call(backend)
        except Exception as error:
            swallowed.append(error)
            continue
        if value:
            return value
    return None


class AirflowCallsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.backend = patchbay.PatchbaySecretsBackend(url=URL, token=TOKEN)
        self.swallowed: List[BaseException] = []

    def tearDown(self) -> None:
        self.assertEqual(self.swallowed, [], "Airflow would have swallowed these and said 'isn't defined'")

    def test_get_connection_with_team_name(self) -> None:
        conn = airflow_32_lookup(
            lambda b: b.get_connection(conn_id=EXPECTED["name"], team_name=TEAM), [self.backend], self.swallowed
        )
        self.assertIsNotNone(conn)
        self.assertEqual(conn.conn_id, EXPECTED["name"])
        self.assertEqual(conn.password, EXPECTED["password"])
        self.assertEqual(conn.extra_dejson, EXPECTED["extra"])

    def test_get_conn_value_with_team_name(self) -> None:
        value = self.backend.get_conn_value(conn_id=EXPECTED["name"], team_name=TEAM)
        self.assertEqual(json.loads(value or "null"), json.loads(raw_rest(EXPECTED["name"])))
        self.assertEqual(value, self.backend.get_conn_value(EXPECTED["name"]))  # Airflow 2's call
        self.assertEqual(value, self.backend.get_conn_value(EXPECTED["name"], None))

    def test_future_keywords_are_accepted(self) -> None:
        future = {"team_name": TEAM, "some_later_keyword": object()}
        self.assertIsNotNone(self.backend.get_conn_value(conn_id=EXPECTED["name"], **future))
        self.assertIsNotNone(self.backend.get_connection(conn_id=EXPECTED["name"], **future))
        self.assertIsNone(self.backend.get_variable(key=MISSING, **future))
        self.assertIsNone(self.backend.get_config(key="core.sql_alchemy_conn", **future))

    def test_signatures_pass_airflows_team_name_check(self) -> None:
        # Airflow >= 3.2.1 forwards team_name only to methods that declare it or **kwargs.
        for name in ("get_conn_value", "get_connection", "get_variable", "get_config"):
            parameters = inspect.signature(getattr(self.backend, name)).parameters.values()
            self.assertTrue(any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters), name)
        for name in ("get_conn_value", "get_connection", "get_variable"):
            self.assertIn("team_name", inspect.signature(getattr(self.backend, name)).parameters, name)

    def test_unknown_conn_id_falls_through_to_the_next_backend(self) -> None:
        class NextBackend:
            def get_connection(self, conn_id: str, team_name: Optional[str] = None) -> str:
                return "from the next backend"

        found = airflow_32_lookup(
            lambda b: b.get_connection(conn_id=MISSING, team_name=TEAM), [self.backend, NextBackend()], self.swallowed
        )
        self.assertEqual(found, "from the next backend")
        self.assertIsNone(self.backend.get_conn_value(conn_id=MISSING, team_name=TEAM))

    def test_get_variable_serves_connections_of_type_secret(self) -> None:
        def variable(key: str) -> Any:
            return airflow_32_lookup(lambda b: b.get_variable(key=key, team_name=TEAM), [self.backend], self.swallowed)

        # Not a secret, or not there: None, so Airflow asks its next backend.
        self.assertIsNone(variable(EXPECTED["name"]))
        self.assertIsNone(variable(MISSING))
        self.assertIsNone(patchbay.secret(EXPECTED["name"]))
        if "secret" in server_type_ids():
            self.assertIsNotNone(SECRET, "the server has the secret type; the harness must create one")
            assert SECRET is not None
            self.assertEqual(variable(SECRET["name"]), SECRET["value"])
            self.assertEqual(self.backend.client.secret(SECRET["name"]), SECRET["value"])
            self.assertEqual(patchbay.secret(SECRET["name"]), SECRET["value"])
        else:
            # The type is not on this server yet, so no connection can be a variable.
            self.assertIsNone(SECRET)


class BackendTest(unittest.TestCase):
    def test_get_conn_value_is_airflows_json(self) -> None:
        value = patchbay.PatchbaySecretsBackend(url=URL, token=TOKEN).get_conn_value(EXPECTED["name"])
        parsed = json.loads(value or "null")
        expected = {key: EXPECTED[key] for key in ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")}
        self.assertEqual(parsed, expected)

    def test_other_errors_raise(self) -> None:
        backend = patchbay.PatchbaySecretsBackend(url=URL, token=WRONG_TOKEN)
        with self.assertRaises(patchbay.PatchbayError) as caught:
            backend.get_conn_value(EXPECTED["name"], team_name=TEAM)
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")
        self.assertEqual(caught.exception.status, 401)
        with self.assertRaises(patchbay.PatchbayError) as caught:
            backend.get_variable("x", team_name=TEAM)
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")
        self.assertNotIn(WRONG_TOKEN, str(caught.exception) + repr(backend))

    def test_caches_like_the_client(self) -> None:
        backend = patchbay.PatchbaySecretsBackend(url=URL, token=TOKEN)
        backend.get_conn_value(EXPECTED["name"], team_name=TEAM)
        backend.get_conn_value(EXPECTED["name"], team_name=TEAM)
        self.assertEqual(backend.client.request_count, 1)

    def test_backend_kwargs_and_environment(self) -> None:
        backend = patchbay.PatchbaySecretsBackend(timeout=5, cache_ttl=0)  # url and token from the environment
        self.assertEqual(backend.client.timeout, 5)
        self.assertEqual(backend.client.cache_ttl, 0)
        self.assertIsNotNone(backend.get_conn_value(EXPECTED["name"]))

    def test_misspelt_backend_kwargs_are_refused(self) -> None:
        with self.assertRaises(patchbay.PatchbayError) as caught:
            patchbay.PatchbaySecretsBackend(url=URL, tokn=TOKEN)
        self.assertEqual(caught.exception.code, "CONFIG")
        self.assertIn("tokn", str(caught.exception))
        self.assertNotIn(TOKEN, str(caught.exception))

    def test_importable_without_airflow(self) -> None:
        try:
            import airflow  # type: ignore  # noqa: F401
        except ImportError:
            self.assertEqual(patchbay.PatchbaySecretsBackend.__mro__[1].__name__, "_StandaloneBase")
        else:  # pragma: no cover - only where Airflow is installed
            from airflow.secrets import BaseSecretsBackend  # type: ignore

            self.assertTrue(issubclass(patchbay.PatchbaySecretsBackend, BaseSecretsBackend))


# A stand-in for Airflow 3.2.0's airflow.secrets: get_connection() passes team_name on to
# get_conn_value() unconditionally and deserialises the JSON; the lookup loop swallows errors.
STAND_IN_AIRFLOW = '''
import json


class Connection:
    def __init__(self, conn_id, **fields):
        self.conn_id = conn_id
        self.__dict__.update(fields)

    @classmethod
    def from_json(cls, value, conn_id):
        return cls(conn_id, **json.loads(value))


class BaseSecretsBackend:
    def get_conn_value(self, conn_id, team_name=None):
        raise NotImplementedError

    def deserialize_connection(self, conn_id, value):
        return Connection.from_json(value=value, conn_id=conn_id)

    def get_connection(self, conn_id, team_name=None):
        value = self.get_conn_value(conn_id=conn_id, team_name=team_name)
        return self.deserialize_connection(conn_id=conn_id, value=value) if value else None

    def get_variable(self, key, team_name=None):
        raise NotImplementedError

    def get_config(self, key):
        return None


def get_connection_from_secrets(backends, conn_id, team_name=None):
    for backend in backends:
        try:
            conn = backend.get_connection(conn_id=conn_id, team_name=team_name)
            if conn:
                return conn
        except Exception as error:
            print("swallowed: %s" % type(error).__name__)
    raise LookupError("The conn_id `%s` isn't defined" % conn_id)
'''

CHILD = '''
import json, sys
import patchbay
from airflow.secrets import BaseSecretsBackend, get_connection_from_secrets

backend_class = patchbay.PatchbaySecretsBackend  # as Airflow resolves "patchbay.PatchbaySecretsBackend"
backend = backend_class(**json.loads(sys.argv[1]))
conn = get_connection_from_secrets([backend], sys.argv[2], team_name="analytics")
print(json.dumps({
    "subclass": issubclass(backend_class, BaseSecretsBackend),
    "class": type(conn).__module__ + "." + type(conn).__name__,
    "password": conn.password,
    "extra": conn.extra,
    "variable": backend.get_variable(key=sys.argv[2], team_name="analytics"),
}))
'''


class UnderAirflowTest(unittest.TestCase):
    def test_airflows_own_get_connection_with_team_name(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            os.makedirs(os.path.join(folder, "airflow", "secrets"))
            open(os.path.join(folder, "airflow", "__init__.py"), "w").close()
            with open(os.path.join(folder, "airflow", "secrets", "__init__.py"), "w") as module:
                module.write(textwrap.dedent(STAND_IN_AIRFLOW))
            path = os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
            env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
            result = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps({"url": URL, "token": TOKEN}), EXPECTED["name"]],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertNotIn("swallowed", result.stdout)
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertTrue(answer["subclass"])
        self.assertEqual(answer["class"], "airflow.secrets.Connection")  # Airflow's, not patchbay's
        self.assertEqual(answer["password"], EXPECTED["password"])
        self.assertEqual(answer["extra"], EXPECTED["extra"])
        self.assertIsNone(answer["variable"])
