"""A month's chargeback from the archive: lines per team, a CSV and an XLSX workbook.

    files = chargeback_files(archive, days, UnattributedSpend.ROW, "2026-11")
    files.csv, files.xlsx            # bytes, the same for the same archived days
    files.team_cents, files.total_cents, files.policy
    files.chargeback.breakdown(team, Dimension.MODEL)   # {(model,): cents}, the team's own lines
    files.chargeback.shared_cents(team)                 # SPREAD: the team's share
    files.chargeback.breakdown(None, Dimension.KEY)     # {(key id, key name): cents}, the account
    files.chargeback.policy_sentence                    # what to say about unattributed spend

Built only from the archive: each given day's normalized CSV (fwcost.archive.csv_export), read
through its manifest and checked against the manifest's SHA-256, streamed into one line per
team × project × environment × usage kind × API key (id and name) × model × deployment, with
integer cents, tokens and accelerator-seconds. Every amount is a sum of the archived rows' cents,
so the lines add up exactly to the days' total, and each team's lines to the sum of its daily
attributed cents (attribution.json's teams).

What the lines hold:
- dedicated GPU time: `model` is the base model, `deployment` the deployment;
- training: `model` is the base model, `deployment` the job id;
- billed-only spend (a line item with no usage, e.g. embeddings): no team (unattributed),
  `model` is the item's detail, `deployment` its billing category;
- names as archived: the day CSVs neutralise them against formula injection (`=x` is `'=x`),
  and that is kept (undoing it cannot be exact: `'=x` may have been either), so a team here is
  csv_export.text_cell(the team's name) and the unattributed team is "" (UNATTRIBUTED); two
  names the day CSV writes alike (`a<line break>b` and `a b`) are one team here.

Unattributed spend (team "", billed-only included) by UnattributedSpend: ROW keeps it as a team
of its own, labelled "Unattributed" in the workbook; SPREAD replaces it with one line per team,
usage kind shared_unattributed ("Unattributed spend (shared)"), in proportion to the team's own
cents (report.unattributed.spread_cents). With no team spend to weigh by, SPREAD falls back to
ROW and `policy_sentence` says so. Either way the lines add up to the same total.

Columns: csv_file.py (the CSV), workbook.py (the sheets). The caller names missing days and
archives the files; chargeback_files only reads the days it is given.
"""

from fwcost.chargeback.csv_file import CHARGEBACK_COLUMNS, chargeback_csv
from fwcost.chargeback.files import (
    CSV_NAME,
    XLSX_NAME,
    XLSX_TYPE,
    ChargebackFiles,
    chargeback_files,
)
from fwcost.chargeback.lines import (
    SHARED_LABEL,
    UNATTRIBUTED,
    Chargeback,
    Dimension,
    Line,
    LineKind,
    read_month,
)
from fwcost.chargeback.workbook import chargeback_xlsx, sheet_names

__all__ = [
    "CHARGEBACK_COLUMNS",
    "CSV_NAME",
    "SHARED_LABEL",
    "UNATTRIBUTED",
    "XLSX_NAME",
    "XLSX_TYPE",
    "Chargeback",
    "ChargebackFiles",
    "Dimension",
    "Line",
    "LineKind",
    "chargeback_csv",
    "chargeback_files",
    "chargeback_xlsx",
    "read_month",
    "sheet_names",
]
