"""Airflow's URI rules, written out in CPython from Airflow's documented behaviour, for
test/airflow/uri-dialects-differential.test.ts: get_uri in both dialects (2.7 to 3.1, where
non-string extras go whole into __extra__; and after apache/airflow PR #59339, where every
extra is stringified into its own parameter) and _parse_from_uri. Reads the generated
connections (JSON on stdin) and prints, per connection, both URIs and what each reads back."""
import json
import sys
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

EXTRA_KEY = "__extra__"


def stringify(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def query_for(extra, dialect):
    if dialect == "QUERY_PARAMS":
        params = {k: stringify(v) for k, v in extra.items()}
    else:
        params = extra
    try:
        query = urlencode(params)
    except TypeError:
        query = None
    if query and params == dict(parse_qsl(query, keep_blank_values=True)):
        return query
    return urlencode({EXTRA_KEY: json.dumps(extra)})


def get_uri(c, dialect):
    conn_type = c["conn_type"]
    uri = f"{conn_type.lower().replace('_', '-')}://" if conn_type else "//"
    host_to_use, protocol_to_add = c["host"], None
    if c["host"] and "://" in c["host"]:
        protocol, rest = c["host"].split("://", 1)
        if protocol != conn_type:
            host_to_use, protocol_to_add = rest, protocol
    if protocol_to_add:
        uri += f"{protocol_to_add}://"
    authority = ""
    if c["login"] is not None:
        authority += quote(c["login"], safe="")
    if c["password"] is not None:
        authority += ":" + quote(c["password"], safe="")
    if authority:
        authority += "@"
        uri += authority
    block = ""
    if host_to_use:
        block += quote(host_to_use, safe="")
    if c["port"]:
        block += f"@:{c['port']}" if block == "" and authority == "" else f":{c['port']}"
    if c["schema"]:
        block += "/" + quote(c["schema"], safe="")
    uri += block
    # Patchbay stores an empty extra as none (Airflow would write __extra__=%7B%7D for "{}").
    if c["extra"]:
        uri += ("?" if c["schema"] else "/?") + query_for(c["extra"], dialect)
    return uri


def hostname_of(parts):
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = parts.netloc
        if "@" in host:
            host = host.rsplit("@", 1)[1]
        if ":" in host:
            host = host.split(":", 1)[0]
        host = unquote(host)
    return host


def parse(uri):
    schemes = uri.count("://")
    if schemes > 2:
        return {"error": True}
    with_protocol = schemes == 2
    conn_type = urlsplit(uri).scheme
    rest = uri.replace(f"{conn_type}://", "" if with_protocol else "//")
    if with_protocol:
        before = rest.split("://", 1)[0]
        if "@" in before or ":" in before:
            return {"error": True}
    parts = urlsplit(rest)
    protocol = parts.scheme if with_protocol else None
    host = hostname_of(parts)
    if protocol and host:
        host = f"{protocol}://{host}"
    quoted_schema = parts.path[1:]
    extra = {}
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = json.loads(query[EXTRA_KEY]) if EXTRA_KEY in query else query
    # Airflow keeps "" where Patchbay reads null: compared as null.
    return {
        "conn_type": "postgres" if conn_type == "postgresql" else conn_type.replace("-", "_"),
        "host": host or None,
        "port": parts.port,
        "schema": unquote(quoted_schema) if quoted_schema else None,
        "login": unquote(parts.username) if parts.username else None,
        "password": None if parts.password is None else unquote(parts.password),
        "extra_entries": [[k, v] for k, v in extra.items()],
    }


conns = json.load(sys.stdin)
out = []
for c in conns:
    answer = {}
    for dialect in ("EXTRA_JSON", "QUERY_PARAMS"):
        uri = get_uri(c, dialect)
        answer[dialect] = {"uri": uri, "parsed": parse(uri)}
    out.append(answer)
print(json.dumps(out))
