"""The installed package: what pip put where, its metadata, standard-library-only imports and
type hints on everything public. Skipped when patchbay is imported from a source tree."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import sys
import typing
import unittest
from typing import Any, Dict, List

import patchbay
from _live import SOURCE

DISTRIBUTION = "patchbay-client"

try:
    from importlib import metadata
except ImportError:  # pragma: no cover - Python 3.7
    metadata = None  # type: ignore[assignment]


def installed() -> Any:
    if metadata is None:
        return None
    try:
        return metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def modules() -> List[Any]:
    return [patchbay] + [
        importlib.import_module("patchbay." + info.name) for info in pkgutil.iter_modules(patchbay.__path__)
    ]


@unittest.skipIf(installed() is None, "patchbay-client is not installed (imported from a source tree)")
class InstalledTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dist = installed()

    def test_the_installed_copy_is_the_one_imported(self) -> None:
        package_dir = os.path.realpath(os.path.dirname(patchbay.__file__ or ""))
        self.assertEqual(package_dir, os.path.realpath(str(self.dist.locate_file("patchbay"))))
        if SOURCE:
            self.assertFalse(package_dir.startswith(os.path.realpath(SOURCE) + os.sep), package_dir)

    def test_metadata(self) -> None:
        self.assertEqual(self.dist.version, patchbay.__version__)
        self.assertEqual(self.dist.metadata["Requires-Python"], ">=3.8")
        self.assertEqual(self.dist.requires or [], [], "the client uses the standard library only")
        files = {str(path).replace(os.sep, "/") for path in self.dist.files or []}
        self.assertIn("patchbay/py.typed", files)
        self.assertIn("patchbay/secrets_backend.py", files)
        self.assertFalse(any(path.startswith("tests/") for path in files), "tests are not installed")

    def test_version_matches_pyproject(self) -> None:
        self.assertTrue(SOURCE, "PATCHBAY_CLIENT_SOURCE names the clients/python folder")
        with open(os.path.join(SOURCE, "pyproject.toml"), encoding="utf-8") as source:
            text = source.read()
        sys.path.insert(0, os.path.join(SOURCE, "_build"))
        try:
            build = importlib.import_module("patchbay_build")
        finally:
            sys.path.pop(0)
        project: Dict[str, Any] = build.read_simple_toml(text)["project"]
        self.assertEqual(project["version"], patchbay.__version__)
        self.assertEqual(project["dependencies"], [])
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python < 3.11
            return
        # The backend's own reader (for Pythons without tomllib) reads the file as tomllib does.
        self.assertEqual(build.read_simple_toml(text), tomllib.loads(text))


class StandardLibraryOnlyTest(unittest.TestCase):
    @unittest.skipUnless(hasattr(sys, "stdlib_module_names"), "needs Python >= 3.10")
    def test_every_import_is_the_standard_library(self) -> None:
        stdlib = getattr(sys, "stdlib_module_names")
        for module in modules():
            with open(module.__file__, encoding="utf-8") as source:
                tree = ast.parse(source.read())
            for node in ast.walk(tree):
                names: List[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    # airflow is imported only where it is installed already (the backend's base).
                    self.assertTrue(top in stdlib or top == "airflow", "%s imports %s" % (module.__name__, name))


class TypeHintsTest(unittest.TestCase):
    def test_every_public_function_and_method_is_annotated(self) -> None:
        checked = 0
        for module in modules():
            for name, value in vars(module).items():
                if getattr(value, "__module__", None) != module.__name__ or (name.startswith("_") and name != "__getattr__"):
                    continue
                functions = [value] if inspect.isfunction(value) else []
                if inspect.isclass(value):
                    functions = [
                        member
                        for key, member in vars(value).items()
                        if inspect.isfunction(member) and (not key.startswith("_") or key == "__init__")
                    ]
                    functions += [m.fget for m in vars(value).values() if isinstance(m, property) and m.fget is not None]
                for function in functions:
                    signature = inspect.signature(function)
                    where = "%s.%s" % (module.__name__, function.__qualname__)
                    self.assertIsNot(signature.return_annotation, inspect.Signature.empty, where + " return")
                    for parameter in list(signature.parameters.values())[1 if inspect.isclass(value) else 0 :]:
                        self.assertIsNot(parameter.annotation, inspect.Parameter.empty, "%s(%s)" % (where, parameter.name))
                    typing.get_type_hints(function)  # every annotation resolves
                    checked += 1
        self.assertGreater(checked, 20)
