"""The package's structure, checked: floors that never import upward, no import circle (imports inside
functions count), and no module reading another module's private members — in src/ and in the tests.

The floors, bottom up (README, "Layout"); a module imports only from its own floor or below.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "glassnet"

FLOORS = [
    ("ground", {"errors", "registry", "validation", "backend", "blas", "threads", "_version", "constraints",
                "document"}),
    ("math", {"activations", "costs", "initializers"}),
    ("model", {"params", "layers", "network"}),
    ("learning", {"optimizers", "schedules", "callbacks", "training", "compiled", "compiled_kernels"}),
    ("glass box", {"trace", "gradcheck"}),
    ("files", {"modelfile", "checkpoint", "data", "datasets", "onnx_export", "run", "contract", "examples"}),
    ("faces", {"workflow", "sklearn", "plots", "progress", "cli", "web", "__main__", "__init__"}),
]


def floor_of(module: str) -> int:
    """The floor of ``glassnet.x.y``: the top-level part names it (cli.* and web.* are faces)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for index, (_, names) in enumerate(FLOORS):
        if top in names:
            return index
    raise AssertionError(f"module {module} is on no floor: add it to FLOORS here and to the README's layout")


def modules() -> dict:
    """``{"glassnet.x": path}`` for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if node.level:
        base = base[:len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def imports_of(name: str, path: pathlib.Path, known: dict) -> set:
    """Every glassnet module ``name`` imports, anywhere in the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("glassnet"))
        elif isinstance(node, ast.ImportFrom):
            target = resolve(name, is_package, node)
            if not target.startswith("glassnet"):
                continue
            for alias in node.names:  # ``from . import data`` imports the submodule glassnet.data
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    found.discard(name)
    return {module for module in found if module in known}


def graph() -> dict:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_no_module_imports_from_a_floor_above_it():
    upward = [f"{importer} ({FLOORS[floor_of(importer)][0]}) imports {imported} ({FLOORS[floor_of(imported)][0]})"
              for importer, targets in graph().items() for imported in targets
              if floor_of(imported) > floor_of(importer)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_circle():
    edges = {name: {t for t in targets if t != "glassnet"} for name, targets in graph().items() if name != "glassnet"}
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                circles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(circles)


def private_names(tree: ast.AST) -> set:
    """Private names a module defines: functions, classes, attributes it assigns (self._x = ...), constants."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _private(node.name):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _private(node.attr):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and _private(node.id):
            names.add(node.id)
    return names


def _private(name: str) -> bool:
    """_x is private; __x__ (Python's) and _repr_*_ (IPython's display protocol) are not."""
    dunder = name.startswith("__") and name.endswith("__")
    display = name.startswith("_repr_") and name.endswith("_")
    return name.startswith("_") and not dunder and not display


def private_reads(path: pathlib.Path, own: set, everyone_private: set) -> list:
    """``x._name`` (x not self/cls) or ``from glassnet... import _name`` where ``_name`` belongs to another
    glassnet module (names this module defines itself are its own business)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr in everyone_private:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if node.attr not in own:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("glassnet", ".")) or (
                isinstance(node, ast.ImportFrom) and node.level):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}"
                      for alias in node.names if _private(alias.name) and alias.name != "_version"]
    return found


def test_no_module_reads_another_modules_private_members():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in modules().values()}
    own = {path: private_names(tree) for path, tree in trees.items()}
    everyone = set().union(*own.values())
    test_files = sorted((ROOT / "tests").rglob("*.py"))
    reads = []
    for path in trees:
        reads += private_reads(path, own[path], everyone)
    for path in test_files:  # tests test behaviour through public names only
        reads += private_reads(path, private_names(ast.parse(path.read_text(encoding="utf-8"))), everyone)
    assert not reads, "private members read from another module:\n" + "\n".join(reads)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_opens_with_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"


def test_the_check_itself_sees_an_upward_import_inside_a_function(tmp_path):
    """The import scan counts imports made inside functions (a lower floor reaching up lazily)."""
    source = tmp_path / "layers.py"
    source.write_text("def f():\n    from .training import Trainer\n    return Trainer\n")
    found = imports_of("glassnet.layers", source, {"glassnet.layers": source, "glassnet.training": source})
    assert found == {"glassnet.training"}
    assert floor_of("glassnet.training") > floor_of("glassnet.layers")
