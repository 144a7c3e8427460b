"""Build hook: the wheel carries the Alembic migrations as ``bot/migrations``.

The revisions are written in ``alembic/`` at the top of the source tree (where ``alembic.ini``,
``alembic revision`` and every branch of the project expect them); ``alembic`` cannot be a
package of its own (it would shadow the Alembic library), so the build copies ``env.py``,
``script.py.mako`` and ``versions/*.py`` into ``bot/migrations/`` of the built package, where
:data:`bot.storage.engine.MIGRATIONS_DIR` finds them. A source checkout (``pip install -e .``)
has no ``bot/migrations`` and reads ``alembic/`` directly. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path("alembic")


class BuildWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "bot" / "migrations"
        if target.exists():
            shutil.rmtree(target)
        (target / "versions").mkdir(parents=True)
        for name in ("env.py", "script.py.mako"):
            shutil.copy2(SOURCE / name, target / name)
        for revision in sorted((SOURCE / "versions").glob("*.py")):
            shutil.copy2(revision, target / "versions" / revision.name)


setup(cmdclass={"build_py": BuildWithMigrations})
