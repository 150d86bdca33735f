"""The package's shape: stages that import only the stages below them, small modules and
functions, and private TensorFlow/Keras/TensorBoard APIs reached from `dlkit._compat` only."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from functools import cache
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "dlkit"
# Bottom to top: a stage may import itself and the stages before it, never one after it.
STAGES = ["_core", "_compat", "_spec", "_runtime", "_data", "_callbacks", "_plan", "_model",
          "_train", "_search", "_analysis", "_deploy", "_cli"]
TOP = {"dlkit", "dlkit.__main__"}  # the public API and `python -m dlkit`: may import anything
USES_PUBLIC_API = {"_cli"}  # the command calls the public API, as a user's script does
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
PRIVATE_MODULES = re.compile(
    r"^(keras\.src|tensorflow\.python|tensorboard\.compat|keras_tuner\.src)(\.|$)")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(path: Path, name: str) -> set[str]:
    """Every module `path` imports, at the top or inside functions (TYPE_CHECKING excluded)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def walk(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue
        yield child
        yield from walk(child)


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "dlkit" else None


def dlkit_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The dlkit modules `name` imports (a name inside a module counts as the module)."""
    result = set()
    for target in imported(path, name):
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name and target.startswith("dlkit"):
            result.add(target)
    return result


def test_every_subpackage_is_a_known_stage():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(STAGES), packages - set(STAGES)
    assert not [p.name for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")]


def test_stages_import_only_the_stages_below_them():
    known = modules()
    upward = []
    for name, path in known.items():
        if name in TOP or stage(name) is None:
            continue
        for target in dlkit_imports(name, path, known):
            if target in TOP:
                if stage(name) not in USES_PUBLIC_API:
                    upward.append(f"{name} imports the public package {target}")
            elif STAGES.index(stage(target)) > STAGES.index(stage(name)):
                upward.append(f"{name} ({stage(name)}) imports {target} ({stage(target)})")
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    known = modules()
    graph = {name: dlkit_imports(name, path, known) for name, path in known.items()}
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*trail[trail.index(target):], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's length without its docstring."""
    length = node.end_lineno - node.lineno + 1
    if ast.get_docstring(node) is not None:
        docstring = node.body[0]
        length -= docstring.end_lineno - docstring.lineno + 1
    return length


def test_modules_and_functions_are_small():
    """Modules of at most 400 lines; functions of at most 50, docstrings not counted."""
    big = []
    for name, path in modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            big.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = code_lines(node)
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{name}.{node.name}: {length} lines")
    assert not big, "\n".join(big)


# --- private APIs ------------------------------------------------------------------------------

def test_private_modules_are_imported_from_compat_only():
    found = []
    for name, path in modules().items():
        if stage(name) == "_compat":
            continue
        for target in imported(path, name):
            if PRIVATE_MODULES.match(target):
                found.append(f"{name} imports {target}")
    assert not found, "\n".join(found)


def private_names_defined(tree: ast.AST) -> set[str]:
    """Private names a module defines itself: attributes it sets on ``self``, its functions and
    classes, its slots."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and ast.unparse(node.value) in ("self", "cls"):
            names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and "__slots__" in ast.unparse(node.targets[0]):
            names.update(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def private_uses(tree: ast.AST) -> list[tuple[int, str, str]]:
    """``(line, receiver, name)`` for each ``x._name`` and ``getattr(x, "_name")``."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            uses.append((node.lineno, ast.unparse(node.value), node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr") \
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) \
                and str(node.args[1].value).startswith("_") \
                and not str(node.args[1].value).startswith("__"):
            uses.append((node.lineno, ast.unparse(node.args[0]), str(node.args[1].value)))
    return uses


@cache
def foreign_private_names(cls: type) -> frozenset[str]:
    """Private names that the non-dlkit classes in `cls`'s ancestry use in their source."""
    names = set()
    for klass in cls.__mro__[1:]:
        if klass.__module__.startswith("dlkit") or klass.__module__ == "builtins":
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        names.update(re.findall(r"\bself\.(_[A-Za-z]\w*)", source))
    return frozenset(n for n in names if not n.startswith("__"))


def test_private_members_of_keras_and_tensorflow_are_reached_from_compat_only():
    """Outside `dlkit._compat`, ``x._name`` must name something the same module defines, and a
    subclass of a Keras or TensorFlow class may not touch its base's private members."""
    found = []
    for name, path in modules().items():
        if stage(name) == "_compat" or name in TOP:
            continue
        tree = ast.parse(path.read_text())
        own = private_names_defined(tree)
        for line, receiver, attr in private_uses(tree):
            if receiver not in ("self", "cls") and attr not in own:
                found.append(f"{name}:{line}: {receiver}.{attr}")
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            foreign = foreign_private_names(cls)
            source = inspect.getsource(cls)
            for attr in sorted(set(re.findall(r"\bself\.(_[A-Za-z]\w*)", source)) & foreign):
                found.append(f"{name}.{cls_name} uses its Keras base's private self.{attr}")
            for method in re.findall(r"^\s+def (_[a-z]\w*)\(", source, re.M):
                if method in foreign:
                    found.append(f"{name}.{cls_name} overrides its base's private {method}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "from keras.src import ops\n",
    "import tensorflow.python.eager.context\n",
    "from tensorboard.compat.proto.event_pb2 import Event\n",
])
def test_the_private_import_scan_can_fail(snippet, tmp_path):
    path = tmp_path / "probe.py"
    path.write_text(snippet)
    assert any(PRIVATE_MODULES.match(t) for t in imported(path, "dlkit._train.probe"))


def test_the_private_member_scan_can_fail():
    import keras

    tree = ast.parse("def f(model):\n    model._initial_epoch = 3\n    return getattr(x, '_h')\n")
    uses = {(receiver, attr) for _, receiver, attr in private_uses(tree)}
    assert uses == {("model", "_initial_epoch"), ("x", "_h")}
    assert private_names_defined(tree) == set()  # setting another object's private is no "own"
    subclass = type("B", (keras.callbacks.BackupAndRestore,), {})
    assert {"_save_model", "_current_epoch"} <= foreign_private_names(subclass)
