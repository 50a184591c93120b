"""What the tests share: the live server's settings from the environment, and ways to ask the
server directly (without the client) to compare the client's answers with the server's own.

    PATCHBAY_URL=http://127.0.0.1:4000 PATCHBAY_TOKEN=pbt_... \\
    PATCHBAY_TEST_CONNECTION='{"name": "warehouse", "conn_type": "postgres", "host": ..., "password": ...}' \\
    python3 -m unittest discover -v -s clients/python/tests

PATCHBAY_TOKEN must have the RESOLVE scope in the workspace holding the connection that
PATCHBAY_TEST_CONNECTION describes (Airflow's JSON form: name, conn_type, description, host,
port, schema, login, password, extra). PATCHBAY_TEST_SECRET ({"name", "value"}) names a
connection of type `secret` there, when the server has that type. PATCHBAY_CLIENT_SOURCE is
the clients/python folder the installed package was built from. test/clients/python-client.test.ts
sets all this up against a fresh server, installs the package into a new virtual environment
and runs these tests there.
"""

from __future__ import annotations

import json
import os
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

URL = os.environ.get("PATCHBAY_URL", "")
TOKEN = os.environ.get("PATCHBAY_TOKEN", "")
EXPECTED: Dict[str, Any] = json.loads(os.environ.get("PATCHBAY_TEST_CONNECTION") or "{}")
SECRET: Optional[Dict[str, str]] = json.loads(os.environ.get("PATCHBAY_TEST_SECRET") or "null")
SOURCE = os.environ.get("PATCHBAY_CLIENT_SOURCE", "")
MISSING = "no-such-connection-%s" % os.getpid()
WRONG_TOKEN = "pbt_" + "0123456789abcdef" * 3


def require_server() -> None:
    """For setUpModule: skip a module's tests when no server is configured."""
    if not (URL and TOKEN and EXPECTED):
        raise unittest.SkipTest("set PATCHBAY_URL, PATCHBAY_TOKEN and PATCHBAY_TEST_CONNECTION to run these tests")


def raw_graphql(query: str, variables: Dict[str, Any]) -> Dict[str, Any]:
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


def raw_rest(name: str, query: str = "") -> str:
    request = urllib.request.Request(
        URL.rstrip("/") + "/api/v1/connections/" + urllib.parse.quote(name, safe="") + query,
        headers={"Authorization": "Bearer " + TOKEN},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def server_field(field: str) -> Any:
    """The server's own value of a ResolvedConnection field, or None when it lacks the field."""
    body = raw_graphql("query($n: String!) { resolveConnection(name: $n) { %s } }" % field, {"n": EXPECTED["name"]})
    if body.get("errors"):
        return None
    return body["data"]["resolveConnection"][field]


def server_type_ids() -> list:
    body = raw_graphql("query { connectionTypes { id } }", {})
    return [entry["id"] for entry in body["data"]["connectionTypes"]]
