"""The package's layering: no import circles, no imports of another module's private names.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy
import still ties two modules together. A circle is found as a strongly connected
component of the graph "module -> module it imports from".
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gradexplain"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, str]]:
    """(module imported from, name imported) for every import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*stem, *([base] if base else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((target if target in modules else base, alias.name))
        elif isinstance(node, ast.Import):
            found += [(alias.name, alias.name) for alias in node.names]
    return [(target, what) for target, what in found if target in modules and target != name]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {target for target, _ in _imports(name, path, modules)}
        for name, path in modules.items()
    }


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, targets = work[-1]
            step = next(targets, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(component)
    return circles


def test_the_package_has_no_import_circles() -> None:
    assert _circles(_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [{"a", "b", "c"}]


def test_no_module_imports_another_modules_private_names() -> None:
    modules = _modules()
    private = [
        f"{name} imports {what} from {target}"
        for name, path in modules.items()
        for target, what in _imports(name, path, modules)
        if what.startswith("_") and not what.startswith("__")
    ]
    assert private == []


def _private_attributes(path: Path, modules: dict[str, Path]) -> list[str]:
    """`graph._walk` where `graph` names one of our modules: a private name reached
    through the module instead of imported, which the import check cannot see."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
        if f"{node.module}.{alias.name}" in modules
    }
    return [
        f"{path.name} reads {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in bound
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]


def test_no_module_reads_another_modules_private_names() -> None:
    modules = _modules()
    assert [
        found for path in modules.values() for found in _private_attributes(path, modules)
    ] == []


_IN = f"(?:(?:{'|'.join(path.parent.name for path in PACKAGE.glob('*/__init__.py'))})/)?"


def _how_it_works() -> str:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## How it works") : readme.index("## Adding a function")]


def test_readme_how_it_works_places_every_module() -> None:
    """issue 11 item 7: README's map matches the layout: each module is named there."""
    import re

    section = _how_it_works()
    unplaced = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py"
        and not re.search(rf"`{_IN}{path.stem}(?:\.py`|\.\w)", section)
    ]
    assert unplaced == []


def test_every_module_readme_how_it_works_names_exists() -> None:
    import re

    files = {path.name for path in PACKAGE.rglob("*.py")}
    named = set(re.findall(rf"`({_IN})(\w+\.py)`", _how_it_works()))
    # a bare name is a module somewhere in the package; `ir/tree.py` is one in ir/
    wrong = {d + n for d, n in named if (not (PACKAGE / d / n).is_file() if d else n not in files)}
    assert named and wrong == set()


def test_readme_tree_names_the_top_level_exactly() -> None:
    """The tree in "How it works" is the package's top: every module there and every
    subpackage, nothing else; a new module finds its place in a subpackage or the tree."""
    import re

    tree = _how_it_works().split("```")[1]
    named = set(re.findall(r"\b\w+\.py\b|\b\w+/", tree)) - {"gradexplain/"}
    top = {path.name for path in PACKAGE.glob("*.py")}
    top |= {f"{path.parent.name}/" for path in PACKAGE.glob("*/__init__.py")}
    assert named == top


# Name checks outside ops/ that the registry does not hold, each for a reason; a new one
# fails test_walkers_ask_the_registry (issue 11 item 1: every walker reads the entry), and
# so does a row here that no module needs any more.
NAME_CHECKS_LEFT = {
    # patterns a sentence is written for, not rules of an op
    ("matrixform.py", "sum"),  # the quadratic form sum(x * (A@x))
    ("matrixform.py", "log_softmax"),  # softmax cross-entropy's matrix form
    ("pysum.py", "sum"),  # the learner's built-in sum(...) over a vector
}


def test_walkers_ask_the_registry() -> None:
    """A call's name, or the rule L combines y by (a reduction's name), is never compared
    with an op's name outside ops/: `rule == "mean"` asks the entry (`Op.average`)."""
    import re

    from gradexplain.ops import NAMES

    compared = re.compile(r"(?:\.func|\brule)\s*(?:==|!=|in|not in)\s*(\([^)]*\)|\"[^\"]*\")")
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "ops":
            continue
        for match in compared.finditer(path.read_text(encoding="utf-8")):
            names = re.findall(r"\"(\w+)\"", match.group(1))
            found |= {(path.name, name) for name in names if name in NAMES}
    assert found == NAME_CHECKS_LEFT, (found - NAME_CHECKS_LEFT, NAME_CHECKS_LEFT - found)
