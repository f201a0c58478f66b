"""The audit archive: raw responses, normalized CSV and manifest per account and day."""

from fwcost.archive.csv_export import CSV_COLUMNS, BilledOnlyRow, RowCosts, usage_csv
from fwcost.archive.day_archive import ArchivedRequest, DayArchive
from fwcost.archive.stores import ArchiveError, LocalStore, ObjectStore, S3Store, StoredObject

__all__ = [
    "CSV_COLUMNS",
    "ArchiveError",
    "ArchivedRequest",
    "BilledOnlyRow",
    "DayArchive",
    "LocalStore",
    "ObjectStore",
    "RowCosts",
    "S3Store",
    "StoredObject",
    "usage_csv",
]
