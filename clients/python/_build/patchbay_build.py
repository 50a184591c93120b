"""A PEP 517 / PEP 660 build backend for the Patchbay client, standard library only.

Why not setuptools: pip builds a package in an isolated environment and installs the build
requirements from an index first, so with setuptools `pip install clients/python` fails on a
machine without one, and Python >= 3.12 no longer puts setuptools in a new virtual environment.
This backend needs nothing: it zips src/ into a pure-Python wheel described by the [project]
table of pyproject.toml.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Tuple, cast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "src")
TAG = "py3-none-any"
# Files the source distribution carries besides src/, relative to ROOT.
SDIST_DIRS = ("_build", "src", "tests")
SDIST_FILES = ("pyproject.toml",)
SKIPPED = re.compile(r"(^|/)(__pycache__|\.[^/]*)(/|$)|\.py[co]$")


# -- PEP 517 / 660 hooks --------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    dist_info = _dist_info(project)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for name, data in _metadata_files(project):
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as out:
            out.write(data)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    files = [(path, _read(os.path.join(SOURCE, path))) for path in _walk(SOURCE)]
    return _write_wheel(wheel_directory, _project(), files)


def build_editable(
    wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    # A .pth line puts src/ on sys.path, so edits take effect without reinstalling.
    project = _project()
    pth = ("%s.pth" % _normalized(project["name"]), (SOURCE + "\n").encode("utf-8"))
    return _write_wheel(wheel_directory, project, [pth])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    base = "%s-%s" % (_normalized(project["name"]), project["version"])
    filename = base + ".tar.gz"
    members = [(path, _read(os.path.join(ROOT, path))) for path in SDIST_FILES]
    for folder in SDIST_DIRS:
        members += [(folder + "/" + path, _read(os.path.join(ROOT, folder, path))) for path in _walk(os.path.join(ROOT, folder))]
    members.append(("PKG-INFO", _metadata(project)))
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, data in sorted(members):
            info = tarfile.TarInfo(base + "/" + path)
            info.size = len(data)
            info.mtime = _epoch()
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return filename


# -- wheels -----------------------------------------------------------------------------------


def _write_wheel(wheel_directory: str, project: Dict[str, Any], files: List[Tuple[str, bytes]]) -> str:
    dist_info = _dist_info(project)
    filename = "%s-%s-%s.whl" % (_normalized(project["name"]), project["version"], TAG)
    entries = list(files) + [(dist_info + "/" + name, data) for name, data in _metadata_files(project)]
    record_path = dist_info + "/RECORD"
    record = "".join("%s,sha256=%s,%d\n" % (path, _digest(data), len(data)) for path, data in entries)
    record += record_path + ",,\n"
    entries.append((record_path, record.encode("utf-8")))
    stamp = time.gmtime(max(_epoch(), 315532800))[:6]  # zip cannot store dates before 1980
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return filename


def _metadata_files(project: Dict[str, Any]) -> List[Tuple[str, bytes]]:
    wheel = "Wheel-Version: 1.0\nGenerator: patchbay_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG
    return [("METADATA", _metadata(project)), ("WHEEL", wheel.encode("utf-8"))]


def _metadata(project: Dict[str, Any]) -> bytes:
    lines = ["Metadata-Version: 2.1", "Name: " + project["name"], "Version: " + project["version"]]
    if project.get("description"):
        lines.append("Summary: " + project["description"])
    if project.get("requires-python"):
        lines.append("Requires-Python: " + project["requires-python"])
    if project.get("keywords"):
        lines.append("Keywords: " + ",".join(project["keywords"]))
    lines += ["Classifier: " + classifier for classifier in project.get("classifiers", [])]
    lines += ["Requires-Dist: " + requirement for requirement in project.get("dependencies", [])]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _dist_info(project: Dict[str, Any]) -> str:
    return "%s-%s.dist-info" % (_normalized(project["name"]), project["version"])


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _epoch() -> int:
    # Reproducible archives: SOURCE_DATE_EPOCH when the builder sets it, else a fixed date.
    try:
        return int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    except ValueError:
        return 315532800


def _walk(top: str) -> List[str]:
    """Files under top, relative with / separators, sorted, without caches and dotfiles."""
    found: List[str] = []
    for folder, _dirs, names in os.walk(top):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/")
            if not SKIPPED.search(relative):
                found.append(relative)
    return sorted(found)


def _read(path: str) -> bytes:
    with open(path, "rb") as source:
        return source.read()


# -- pyproject.toml -------------------------------------------------------------------------------


def _project() -> Dict[str, Any]:
    text = _read(os.path.join(ROOT, "pyproject.toml")).decode("utf-8")
    try:
        import tomllib  # type: ignore[import-not-found, unused-ignore]  # Python >= 3.11
    except ImportError:
        document = read_simple_toml(text)
    else:
        document = tomllib.loads(text)
    project = document.get("project")
    if not isinstance(project, dict):
        raise ValueError("pyproject.toml needs a [project] table")
    table = cast(Dict[str, Any], project)
    if not isinstance(table.get("name"), str) or not isinstance(table.get("version"), str):
        raise ValueError("pyproject.toml's [project] needs a name and a version")
    return table


def read_simple_toml(text: str) -> Dict[str, Any]:
    """The TOML that pyproject.toml uses, for Pythons without tomllib: [tables], and keys whose
    values are strings or arrays of strings (one or more lines). Anything else is refused."""
    document: Dict[str, Any] = {}
    table = document
    pending = ""
    for line in _uncommented_lines(text):
        if pending:
            pending += " " + line
        elif line.startswith("["):
            if not line.endswith("]") or line.startswith("[["):
                raise ValueError("unsupported TOML table header: %s" % line)
            table = document
            for part in line[1:-1].strip().split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        else:
            pending = line
        key, separator, value = pending.partition("=")
        if not separator:
            raise ValueError("unsupported TOML line: %s" % line)
        value = value.strip()
        if value.startswith("[") and _depth(value) > 0:
            continue  # an array that goes on on the next line
        pending = ""
        table[key.strip().strip('"')] = _simple_value(value)
    if pending:
        raise ValueError("unterminated TOML value: %s" % pending)
    return document


def _uncommented_lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        quote = ""
        cut = len(raw)
        for index, char in enumerate(raw):
            if quote:
                if char == quote and raw[index - 1] != "\\":
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "#":
                cut = index
                break
        line = raw[:cut].strip()
        if line:
            yield line


def _depth(value: str) -> int:
    depth = 0
    quote = ""
    for index, char in enumerate(value):
        if quote:
            if char == quote and value[index - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
    return depth


def _simple_value(value: str) -> Any:
    parsed: Any = ast.literal_eval(value)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, list) and all(isinstance(item, str) for item in cast(List[Any], parsed)):
        return cast(List[str], parsed)
    raise ValueError("unsupported TOML value: %s" % value)
