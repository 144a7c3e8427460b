"""/rapport (/report) and ``tisserand report build``: the annual activity report.

The report's sections come from the families (``Family.report``, given to handlers as
``ctx.report_sources``); this family adds the network's own figures (members, newcomers,
categories), renders the HTML with :mod:`digests.report` and writes the spreadsheet.
"""

from __future__ import annotations

from bot.family import Family
from commands.report import handlers
from commands.report.build import NoActivity, ReportFiles, build_report, collect

__all__ = ["FAMILY", "NoActivity", "ReportFiles", "build_report", "collect"]

FAMILY = Family(name="report", handlers=(handlers,))
