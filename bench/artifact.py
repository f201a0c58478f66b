"""The built Lambda artifact (function plus layer), zipped and unzipped, against Lambda's limits."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.measure import REPO_ROOT

BUILD = REPO_ROOT / ".aws-sam" / "build"
PARTS = ("DailyReportFunction", "FwcostLayer")
ZIPPED_LIMIT = 50 * 1024 * 1024  # a .zip uploaded directly (per function or layer)
UNZIPPED_LIMIT = 250 * 1024 * 1024  # function and all its layers, unzipped


@dataclass(frozen=True, slots=True)
class PartSize:
    name: str
    files: int
    unzipped: int
    zipped: int


def artifact_sizes(build: Path = BUILD) -> list[PartSize] | None:
    """Each built part's size, or None when there is no build (run `make build`)."""
    if not all((build / part).is_dir() for part in PARTS):
        return None
    return [_size(part, build / part) for part in PARTS]


def _size(name: str, folder: Path) -> PartSize:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return PartSize(name, len(files), sum(path.stat().st_size for path in files), buffer.tell())
