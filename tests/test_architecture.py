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


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _family(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "commands" and len(parts) > 1 else None


def _exports(root: Path, family: str) -> frozenset[str]:
    """The literal ``__all__`` of ``commands.<family>`` (a package or a one-module family)."""
    package = root / "commands" / family / "__init__.py"
    path = package if package.exists() else root / "commands" / f"{family}.py"
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _imported_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _cross_family_imports(root: Path) -> list[str]:
    """Every import from a module of ``commands.A`` to one of ``commands.B`` (A != B) that does
    not go through ``commands.B`` itself, or takes a name its ``__all__`` does not offer. Imports
    inside functions and under ``TYPE_CHECKING`` count (the walk sees every node). A family
    imported as a module (``from commands import gazette``, ``import commands.polls``) is
    checked on the attributes the importer reads from it."""
    wrong: list[str] = []
    for path in sorted((root / "commands").rglob("*.py")):
        module = _module_name(path, root)
        own = _family(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = f"{path.relative_to(root)}"
        # (family, name bound in this module, line) for each family imported as a module
        bound: list[tuple[str, str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    other = _family(alias.name)
                    if other is None or other == own:
                        continue
                    if alias.name != f"commands.{other}":
                        wrong.append(f"{where}:{node.lineno} imports {alias.name}")
                    else:
                        bound.append((other, alias.asname or alias.name, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _imported_from(node, module, path.name == "__init__.py")
                names = [alias.name for alias in node.names]
                if target == "commands":
                    bound += [
                        (alias.name, alias.asname or alias.name, node.lineno)
                        for alias in node.names
                        if alias.name != own
                    ]
                    continue
                other = _family(target)
                if other is None or other == own:
                    continue
                if target != f"commands.{other}":
                    wrong.append(f"{where}:{node.lineno} imports {target} ({', '.join(names)})")
                    continue
                offered = _exports(root, other)
                for name in names:
                    if name not in offered:
                        wrong.append(
                            f"{where}:{node.lineno} imports {name} from {target}, not in __all__"
                        )
        for other, name, line in bound:
            offered = _exports(root, other)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and ast.unparse(node.value) == name
                    and node.attr not in offered
                ):
                    wrong.append(
                        f"{where}:{node.lineno} reads {name}.{node.attr} (imported line {line}),"
                        f" not in commands.{other}.__all__"
                    )
    return wrong


def test_a_family_uses_another_only_through_its_package_all() -> None:
    """docs/design.md: a family uses another only through that family's package, and only for
    what the package's ``__all__`` offers."""
    assert _cross_family_imports(ROOT) == []


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        (
            "commands/sessions/report.py",
            "if TYPE_CHECKING:\n    from commands.polls.store import get_poll",
            "commands/sessions/report.py:{n} imports commands.polls.store (get_poll)",
        ),
        (
            "commands/sessions/service.py",
            "from commands.polls.store import get_poll",
            "commands/sessions/service.py:{n} imports commands.polls.store (get_poll)",
        ),
        (
            "commands/sessions/service.py",
            "import commands.polls.tally",
            "commands/sessions/service.py:{n} imports commands.polls.tally",
        ),
        (
            "commands/polls/service.py",
            "from commands.sessions import store",
            "commands/polls/service.py:{n} imports store from commands.sessions, not in __all__",
        ),
        (
            "commands/profile/handlers.py",
            "from commands import gazette; gazette.consent",
            "commands/profile/handlers.py:{n} reads gazette.consent",
        ),
        (
            "commands/gazette/publish.py",
            "from ..polls.store import get_poll",
            "commands/gazette/publish.py:{n} imports commands.polls.store (get_poll)",
        ),
    ],
)
def test_a_reach_into_another_family_fails(
    tmp_path: Path, module: str, line: str, expected: str
) -> None:
    """The check above fails, naming the import, when a family reaches past another's package:
    from inside a function, or under ``TYPE_CHECKING``."""
    shutil.copytree(
        ROOT / "commands", tmp_path / "commands", ignore=shutil.ignore_patterns("*.pyc")
    )
    path = tmp_path / module
    text = path.read_text(encoding="utf-8")
    if not line.startswith("if TYPE_CHECKING:"):
        line = f"def _broken() -> None:\n    {line}"
    n = len(text.splitlines()) + 2 + len(line.splitlines())  # the import is the last line
    path.write_text(f"{text}\n\n{line}\n", encoding="utf-8")
    assert _cross_family_imports(ROOT) == []
    wrong = _cross_family_imports(tmp_path)
    assert any(entry.startswith(expected.format(n=n)) for entry in wrong), wrong


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
