"""Runs CPython's urllib.parse, json and PyYAML on the inputs the differential test generated
(JSON on stdin) and prints their answers as JSON, for test/airflow/python-differential.test.ts."""
import datetime
import json
import math
import sys
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

import urllib.parse
import yaml


def attempt(fn):
    try:
        return {"ok": fn()}
    except (ValueError, UnicodeError):
        return {"error": True}


def url_answers(text):
    def split():
        parts = urlsplit(text)
        return {
            "scheme": parts.scheme, "netloc": parts.netloc, "path": parts.path,
            "query": parts.query, "fragment": parts.fragment,
            "username": parts.username, "password": parts.password, "hostname": parts.hostname,
        }
    def port():
        return urlsplit(text).port
    return {
        "quote": attempt(lambda: quote(text, safe="")),
        "quote_safe": attempt(lambda: quote(text, safe=" +")),
        "quote_plus": attempt(lambda: quote_plus(text)),
        "unquote": attempt(lambda: unquote(text)),
        "parse_qsl": attempt(lambda: [list(p) for p in parse_qsl(text, keep_blank_values=True)]),
        "urlsplit": attempt(split),
        "port": attempt(port),
    }


def plain(value):
    """A loaded YAML value in a form both sides can compare."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return {"num": "nan"}
        if isinstance(value, float) and math.isinf(value):
            return {"num": "inf" if value > 0 else "-inf"}
        return {"num": float(value)}
    if isinstance(value, (datetime.date, datetime.datetime)):
        return {"timestamp": True}
    if isinstance(value, dict):
        return {"map": [[plain(k), plain(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def yaml_load(text):
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return {"error": True}
    if not isinstance(loaded, dict):
        return {"error": True}
    return {"ok": [[plain(k), plain(v)] for k, v in loaded.items()]}


inputs = json.load(sys.stdin)
print(json.dumps({
    # CPython before 3.12.4/3.11.10-ish checked the whole netloc's bracketed part, userinfo included;
    # later ones (and the emulator) check only the host after the last "@".
    "checks_host_after_userinfo": hasattr(urllib.parse, "_check_bracketed_netloc"),
    "urls": [url_answers(t) for t in inputs["urls"]],
    "json": [[json.dumps(v), json.dumps(v, indent=2)] for v in inputs["json"]],
    "yaml_dump": [yaml.dump(m, Dumper=yaml.CSafeDumper) for m in inputs["yaml_dump"]],
    "yaml_load": [yaml_load(t) for t in inputs["yaml_load"]],
}))
