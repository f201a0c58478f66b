"""Links from a report to its archived copy and CSV: plain values the report renders.

Which kind of link a run makes is a setting (FWCOST_LINKS); the adapters that make them
(fwcost.archive.links) are the only code that knows about presigning or the AWS console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

# SigV4's limit: a presigned URL may be valid for at most 7 days.
MAX_LINK_EXPIRY_HOURS = 7 * 24


class LinkStyle(Enum):
    """How a report links to its archived files (a local archive always links its files)."""

    CONSOLE = "console"  # the S3 console's page of the object: no expiry, needs console access
    PRESIGNED = "presigned"  # a presigned GET URL: anyone holding it, until it expires
    NONE = "none"  # no links: the report names the archive folder only


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str  # what the reader sees: "Full report", "CSV"
    expires: datetime | None = None  # None: does not expire
    needs_sign_in: bool = False  # True: opens in the AWS console, for those who may sign in


@dataclass(frozen=True, slots=True)
class ReportLinks:
    """One audience's links: its own full report and its own CSV, as archived."""

    report: Link
    csv: Link

    @property
    def expires(self) -> datetime | None:
        """When the first of them stops working; None when they do not expire."""
        return min((link.expires for link in (self.report, self.csv) if link.expires), default=None)

    @property
    def needs_sign_in(self) -> bool:
        return self.report.needs_sign_in or self.csv.needs_sign_in
