"""The dependency rule of ``docs/design.md`` holds: the import contracts of ``pyproject.toml``
are kept, and they do fail when someone breaks them."""

from __future__ import annotations

import ast
import builtins
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "commands", "digests")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 700
LIBRARY_PROTOCOLS = frozenset({"httpcore", "sqlalchemy"})


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contracts_are_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("digests/feeds/__init__.py", "import bot.storage.veille", "digests are libraries"),
        ("bot/outbox/writer.py", "import commands.polls", "commands -> digests -> bot"),
        ("bot/platforms/console.py", "import bot.app", "Platforms are leaves"),
        ("bot/i18n.py", "import bot.config", "No import cycle"),
    ],
)
def test_a_broken_contract_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    tree = _copy_tree(tmp_path)
    path = tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _broken() -> None:\n    {line}\n")
    result = _lint(tree)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_the_libraries_contract_names_every_other_kernel_module() -> None:
    """``digests`` may import bot.core, bot.i18n, bot.clock and bot.mentions: every other module
    of ``bot`` is forbidden by name, so a new kernel module cannot slip past the contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "digests")
    forbidden = set(contract["forbidden_modules"])
    kernel = {
        f"bot.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "bot").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    allowed = {"bot.core", "bot.i18n", "bot.clock", "bot.mentions"}
    assert kernel - allowed - forbidden == set()
    assert "commands" in forbidden


def test_no_module_is_over_the_size_limit() -> None:
    """A long module is a sign that two concerns share a file (docs/design.md)."""
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concern: {long}"


def _raised_names(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(target, ast.Name):
            found.append((node.lineno, target.id))
        elif isinstance(target, ast.Attribute):
            found.append((node.lineno, ast.unparse(target)))
    return found


def test_every_exception_raised_descends_from_tisserand_error() -> None:
    """One error root (docs/design.md): what the project raises is a TisserandError, except an
    ``AssertionError`` marking code that cannot be reached, re-raises of a caught error, and the
    errors a library's protocol asks us to raise (httpcore's, in the transport httpx calls;
    SQLAlchemy's ``DisconnectionError`` in a pool event)."""
    import importlib

    from bot.core import TisserandError

    wrong: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module_name = module_name.removesuffix(".__init__")
            module = importlib.import_module(module_name)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for line, name in _raised_names(tree):
                if name in ("AssertionError", "AttributeError"):
                    continue  # unreachable code; a module's __getattr__ (the import protocol)
                head, *rest = name.split(".")
                value = getattr(module, head, getattr(builtins, head, None))
                for part in rest:
                    value = getattr(value, part, None)
                if not isinstance(value, type):
                    continue  # a caught exception raised again, or one built by a helper
                if value.__module__.split(".")[0] in LIBRARY_PROTOCOLS:
                    continue
                if not issubclass(value, TisserandError):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} raises {name}")
    assert wrong == []
