"""The audit archive: raw responses, normalized CSV and manifest per account and day."""

from fwcost.archive.csv_export import CSV_COLUMNS, CostedRows, UsageCsv, usage_csv
from fwcost.archive.day_archive import ArchivedRequest, DayArchive
from fwcost.archive.stores import ArchiveError, LocalStore, ObjectStore, S3Store, StoredObject

__all__ = [
    "CSV_COLUMNS",
    "ArchiveError",
    "ArchivedRequest",
    "CostedRows",
    "DayArchive",
    "LocalStore",
    "ObjectStore",
    "S3Store",
    "StoredObject",
    "UsageCsv",
    "usage_csv",
]
