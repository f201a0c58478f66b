"""The month's chargeback files from the archive: one call for the statement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fwcost.archive.day_archive import DayArchive
from fwcost.chargeback.csv_file import chargeback_csv
from fwcost.chargeback.lines import Chargeback, read_month
from fwcost.chargeback.workbook import chargeback_xlsx
from fwcost.report.unattributed import UnattributedSpend

CSV_NAME = "chargeback.csv"
XLSX_NAME = "chargeback.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ChargebackFiles:
    """The CSV and the workbook of one month, and the lines both were written from."""

    month: str
    csv: bytes
    xlsx: bytes
    chargeback: Chargeback

    @property
    def team_cents(self) -> dict[str, int]:
        return self.chargeback.team_cents

    @property
    def total_cents(self) -> int:
        return self.chargeback.total_cents

    @property
    def policy(self) -> UnattributedSpend:
        return self.chargeback.policy


def chargeback_files(
    archive: DayArchive, days: Iterable[date], policy: UnattributedSpend, month_label: str
) -> ChargebackFiles:
    """Both files for `days` as archived (each must have its manifest; missing days are the
    caller's to name), unattributed spend placed by `policy`."""
    chargeback = read_month(archive, days, policy)
    return ChargebackFiles(
        month=month_label,
        csv=chargeback_csv(chargeback, month_label),
        xlsx=chargeback_xlsx(chargeback, month_label, archive.account_id),
        chargeback=chargeback,
    )
