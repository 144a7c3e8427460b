"""A gazette as an A4 PDF, printed by headless Chromium (its own print-to-PDF).

Chromium is a maintained, widely installed engine that already renders the gazette for the
screenshots; its ``--print-to-pdf`` honours the gazette's ``@page { size: A4 }`` and print rules.
The HTML carries no script and forbids every load (its Content-Security-Policy), so printing it
runs nothing. Chromium runs in a fresh profile in a temporary directory, without network
services, and is stopped after ``timeout`` seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bot.core import TisserandError


class PdfUnavailable(TisserandError):
    """Chromium is missing or could not print the PDF (the reason is the message)."""


def find_chromium(program: str) -> str | None:
    """The Chromium program: a path, or a name looked up in PATH."""
    if os.sep in program:
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program)


def html_to_pdf(
    html: bytes, *, chromium: str = "chromium", work_dir: Path | None = None, timeout: float = 90
) -> bytes:
    """Print ``html`` (a whole document) to an A4 PDF; raises :class:`PdfUnavailable`."""
    program = find_chromium(chromium)
    if program is None:
        raise PdfUnavailable(f"{chromium}: not found")
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="gazette-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "gazette.html"
        target = folder / "gazette.pdf"
        source.write_bytes(html)
        command = [
            program,
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with it
        try:
            result = subprocess.run(
                command, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfUnavailable(f"{program}: {error}") from None
        if result.returncode != 0 or not target.exists():
            tail = result.stderr.decode("utf-8", "replace")[-500:]
            raise PdfUnavailable(f"{program} exited with {result.returncode}: {tail}")
        data = target.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise PdfUnavailable(f"{program} did not write a PDF")
    return data
