"""The layers hold: who may import what, read from the source and checked in a fresh process.

- calibration/, models/ and train.py take from ``installation`` only its EEG side
  (``installation.eeg``), ``installation.errors``, ``installation.bundle`` and the one module
  that imports pygame quietly (``installation.screen.quiet_pygame``);
- ``installation.eeg`` imports no pygame, onnxruntime or torch, and nothing of the show;
- importing the show imports no torch;
- no import cycle among the project's modules, imports inside functions counted;
- an import inside a function says why on its line or the line above (to keep a heavy or
  optional module out of a path that does not need it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

OFFLINE_MAY_USE = ("installation.eeg", "installation.errors", "installation.bundle",
                   "installation.screen.quiet_pygame")
EEG_MAY_USE = ("installation.eeg", "installation.errors")
EEG_MUST_NOT_USE = ("pygame", "onnxruntime", "torch")
SHOW_ENTRY_MODULES = ("installation.app", "installation.cli", "installation.render",
                      "installation.demo")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, anywhere in it (functions included).

    ``from package import name`` counts as ``package.name`` too, so importing a submodule by
    name is caught like a dotted import.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, packages) -> bool:
    """Whether ``module`` is one of ``packages`` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def offending_imports(files, allowed, root: Path = REPO,
                      forbidden_roots=("installation",)) -> list[str]:
    """``file: module`` for each import under ``forbidden_roots`` that ``allowed`` does not hold.

    A bare ``import installation`` (the package's ``__init__``, nothing else) is not an offence;
    ``from installation import name`` is judged as ``installation.name``.
    """
    offences = []
    for path in files:
        for module in sorted(imported_modules(path)):
            if module in forbidden_roots or not within(module, forbidden_roots):
                continue
            if within(module, allowed):
                continue
            offences.append(f"{path.relative_to(root)}: {module}")
    return offences


def python_files(*parts: str) -> list[Path]:
    """The .py files of a folder (recursively) or a single file, relative to the repository."""
    path = REPO.joinpath(*parts)
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_calibration_models_and_train_use_only_the_eeg_side_errors_and_bundle():
    files = python_files("calibration") + python_files("models") + python_files("train.py")
    assert len(files) > 30
    assert offending_imports(files, OFFLINE_MAY_USE) == []


def test_the_eeg_side_imports_no_show_and_no_pygame_onnxruntime_or_torch():
    files = python_files("installation", "eeg")
    assert any(p.name == "session_folder.py" for p in files)
    assert offending_imports(files, EEG_MAY_USE) == []
    heavy = [f"{p.relative_to(REPO)}: {m}" for p in files for m in sorted(imported_modules(p))
             if within(m, EEG_MUST_NOT_USE)]
    assert heavy == []


def test_the_import_check_catches_a_forbidden_import(tmp_path):
    """The checker itself: a show import, a ``from installation import`` and pygame are seen."""
    bad = tmp_path / "bad.py"
    bad.write_text("import pygame\nfrom installation import app\n"
                   "def f():\n    from installation.screen.display import DisplayLoop\n")
    offences = offending_imports([bad], EEG_MAY_USE, root=tmp_path)
    assert offences == ["bad.py: installation.app", "bad.py: installation.screen.display",
                        "bad.py: installation.screen.display.DisplayLoop"]
    assert "pygame" in imported_modules(bad)


def modules_loaded_by(imports: list[str]) -> set[str]:
    """Top-level names in ``sys.modules`` after a fresh interpreter imports ``imports``."""
    code = ("import importlib, sys\n"
            f"for name in {imports!r}:\n    importlib.import_module(name)\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=240, check=True)
    return set(out.stdout.split())


def eeg_modules() -> list[str]:
    """Every module of the EEG side, by dotted name."""
    root = REPO / "installation" / "eeg"
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_every_eeg_module_loads_no_pygame_onnxruntime_or_torch():
    loaded = modules_loaded_by(eeg_modules())
    assert "installation" in loaded and "scipy" in loaded  # the imports did run
    assert loaded.isdisjoint(EEG_MUST_NOT_USE), loaded & set(EEG_MUST_NOT_USE)


def test_importing_the_show_loads_no_torch():
    loaded = modules_loaded_by(list(SHOW_ENTRY_MODULES))
    assert {"pygame", "onnxruntime"} <= loaded  # the show itself was imported
    assert "torch" not in loaded


PROJECT_PACKAGES = ("installation", "models", "calibration")


def module_name(path: Path, root: Path) -> str:
    """The dotted name of a source file (a package's ``__init__`` is the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(files, root: Path = REPO) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in it (``from a import b``: ``a.b``
    when that is a module, else ``a``). A package's ``__init__`` running before its submodules
    is Python's order, not an edge."""
    names = {module_name(p, root): p for p in files}
    graph = {}
    for name, path in names.items():
        edges = set()
        for module in imported_modules(path):
            if module in names:
                edges.add(module)
            elif module.rpartition(".")[0] in names:  # ``from package.module import name``
                edges.add(module.rpartition(".")[0])
        graph[name] = edges - {name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan), sorted."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def project_files() -> list[Path]:
    """The project's own modules: its packages and train.py."""
    return [p for package in PROJECT_PACKAGES for p in python_files(package)] + [REPO / "train.py"]


def test_no_import_cycles_among_the_project_modules():
    graph = import_graph(project_files())
    assert len(graph) > 100 and graph["train"] == {"installation.errors", "models.training.cli"}
    assert import_cycles(graph) == []


def test_the_cycle_check_sees_a_cycle_hidden_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import g\n")
    (pkg / "b.py").write_text("def g():\n    from pkg import a\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = import_graph(sorted(pkg.glob("*.py")), root=tmp_path)
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]


def unexplained_function_imports(path: Path, root: Path = REPO) -> list[str]:
    """``file:line`` of each import inside a function without a comment on its line or above."""
    lines = path.read_text().splitlines()
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                own, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
                if "#" not in own and not above.startswith("#"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return sorted(set(found))


def test_every_import_inside_a_function_says_why():
    files = project_files()
    assert [f for p in files for f in unexplained_function_imports(p)] == []


def test_the_lazy_import_check_wants_a_reason(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    import json\n\n"
                      "def g():\n    import mne  # lazy: slow to import\n\n"
                      "def h():\n    # lazy: slow to import\n    import pyxdf\n")
    assert unexplained_function_imports(source, root=tmp_path) == ["m.py:2"]


MODULES_PER_FOLDER = 12


def crowded_folders(root: Path = REPO) -> dict[str, int]:
    """Folders of the project's packages holding more than MODULES_PER_FOLDER modules."""
    counts = {}
    for package in PROJECT_PACKAGES:
        for folder in [root / package, *(p for p in (root / package).rglob("*") if p.is_dir())]:
            modules = [p for p in folder.glob("*.py")
                       if p.name not in ("__init__.py", "__main__.py")]
            if len(modules) > MODULES_PER_FOLDER:
                counts[str(folder.relative_to(root))] = len(modules)
    return counts


def test_no_folder_holds_more_than_twelve_modules():
    assert crowded_folders() == {}
