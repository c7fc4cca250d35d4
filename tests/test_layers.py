"""The layers hold: who may import what, read from the source and checked in a fresh process.

- calibration/, models/ and train.py take from ``installation`` only its EEG side
  (``installation.eeg``), ``installation.errors`` and ``installation.bundle``;
- ``installation.eeg`` imports no pygame, onnxruntime or torch, and nothing of the show;
- importing the show imports no torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

OFFLINE_MAY_USE = ("installation.eeg", "installation.errors", "installation.bundle")
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
