"""The audit archive: one Hive-style folder per account and report day.

    {prefix}/account={id}/dt=YYYY-MM-DD/
        raw/{first}_{last}/{fetched}/{request}.json
                                            raw bodies of a fetch whose window ended on this day,
                                            byte for byte as received unless scrubbed (below); one
                                            folder per fetch, never overwritten, so every
                                            manifest's references stay valid
        csv/usage.csv                       normalized rows (the Athena table reads csv/ only)
        attribution.json                    the day's dollars per group (trends read these back)
        report/report.html|.txt|.csv, slack.json the reports as rendered, and the CSV each
                                            one sent (report.csv); each team's in
                                            teams/<segment>/, its name as name_segment encodes it
                                            (the name itself for a plain one such as `search`);
                                            the reports link to these files
        revisions/{written_at}/...          earlier manifest, CSV and attribution of a restated day
        manifest.json                       written last: its presence means the day is complete

A fetch covers a window of days (one request set for up to 31 days), so its raw bodies are
stored once, under the window's last day, and every day of the window lists them in its
manifest with size and SHA-256 (and the S3 version id, which keeps the reference exact even
after a later run rewrites that object in the versioned bucket).

Raw bodies are scrubbed of credentials before they are written (fwcost.scrub: the API key the
archive is given, `Bearer ...`, key- and token-shaped strings), errors included: a gateway that
echoes request headers in a refusal must not put the key into the archive. A scrubbed body's
manifest entry says `"scrubbed": true` and how many were replaced (`"scrubbed_count"`), and its
SHA-256 is that of the bytes written; a body with nothing to scrub is kept byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from fwcost.archive.stores import ObjectStore, StoredObject
from fwcost.model import RawResponse
from fwcost.scrub import Scrubber

MANIFEST_SCHEMA = "fwcost.manifest/1"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class ArchivedRequest:
    """A raw response as the manifest lists it: how it was asked for and where it is kept.

    Not its body, which is in the store: a large day's bodies (half a GB) are freed once written.
    """

    entry: Mapping[str, Any]  # the manifest's entry for it (_request_entry)
    stored: StoredObject


class DayArchive:
    """Reads and writes one account's days in a store, in the layout above."""

    def __init__(
        self, store: ObjectStore, prefix: str, account_id: str, *, secrets: Sequence[str] = ()
    ) -> None:
        """`secrets`: values never to archive (the API key), scrubbed besides credential shapes."""
        self.store = store
        self._scrubber = Scrubber(secrets)
        self._root = "/".join(part for part in (prefix.strip("/"), f"account={account_id}") if part)
        self.account_id = account_id

    @property
    def root(self) -> str:
        """The account's folder: days under dt=, statements and digests beside them."""
        return self._root

    def day_prefix(self, day: date) -> str:
        return f"{self._root}/dt={day.isoformat()}"

    def day_url(self, day: date) -> str:
        return self.store.url(self.day_prefix(day))

    def account_url(self) -> str:
        return self.store.url(self._root)

    def scrubbed(self, body: bytes) -> bytes:
        """A raw body as the archive keeps it: credentials replaced (fwcost.scrub)."""
        return self._scrubber.scrub(body).body

    def write_raw(
        self, first: date, last: date, raw: Sequence[RawResponse]
    ) -> list[ArchivedRequest]:
        fetched = _stamp(min(r.fetched_at for r in raw).isoformat()) if raw else "empty"
        folder = f"{self.day_prefix(last)}/raw/{first.isoformat()}_{last.isoformat()}/{fetched}"
        archived = []
        for response in raw:
            scrubbed = self._scrubber.scrub(response.body)
            stored = self.store.put(f"{folder}/{response.name}.json", scrubbed.body, JSON)
            archived.append(
                ArchivedRequest(_request_entry(response, stored, scrubbed.count), stored)
            )
        return archived

    def write_day(
        self,
        day: date,
        *,
        csv_body: bytes,
        attribution: Mapping[str, Any],
        requests: Sequence[ArchivedRequest],
        details: Mapping[str, Any],
        csv_sha256: str | None = None,
    ) -> dict[str, Any]:
        """Write the day's CSV and attribution, then its manifest, last. Returns the manifest.

        `csv_sha256`: the CSV's digest when the caller has it (computed from `csv_body`)."""
        base = self.day_prefix(day)
        written = [
            self.store.put(
                f"{base}/csv/usage.csv", csv_body, "text/csv; charset=utf-8", csv_sha256
            ),
            self.store.put(f"{base}/attribution.json", _json_bytes(attribution), JSON),
        ]
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "account_id": self.account_id,
            "day": day.isoformat(),
            **details,
            "written_at": _utc_now(),
            "requests": [dict(r.entry) for r in requests],
            "objects": [asdict(o) for o in (*written, *(r.stored for r in requests))],
        }
        self.store.put(f"{base}/manifest.json", _json_bytes(manifest), JSON)
        return manifest

    def import_key(self, sha256: str, name: str) -> str:
        """Where an imported export's copy and its manifest go (fwcost.imports), by content."""
        return f"{self._root}/imports/sha256={sha256}/{name}"

    def export_key(self, day: date) -> str:
        """The day's sums from imported exports (fwcost.imports), beside its data."""
        return f"{self.day_prefix(day)}/export.json"

    def read_json(self, key: str) -> dict[str, Any] | None:
        return self._read_json(key)

    def report_key(self, day: date, name: str) -> str:
        """Where write_reports puts the report file `name` (known before it is written, so a
        report can link to its own archived copy)."""
        return f"{self.day_prefix(day)}/report/{name}"

    def write_reports(self, day: date, files: Mapping[str, bytes]) -> list[StoredObject]:
        """The rendered reports of a day and their CSVs, as sent, under report/ (after the
        data they show)."""
        types = {
            ".html": "text/html; charset=utf-8",
            ".txt": "text/plain; charset=utf-8",
            ".csv": "text/csv; charset=utf-8",
        }
        return [
            self.store.put(
                self.report_key(day, name), body, types.get(name[name.rfind(".") :], JSON)
            )
            for name, body in files.items()
        ]

    def read_manifest(self, day: date) -> dict[str, Any] | None:
        return self._read_json(f"{self.day_prefix(day)}/manifest.json")

    def complete_days(self) -> set[date]:
        """The days whose manifest is written, from one listing of the account's folder."""
        own_manifest = re.compile(rf"{re.escape(self._root)}/dt=(\d{{4}}-\d\d-\d\d)/manifest\.json")
        return {
            date.fromisoformat(match[1])
            for key in self.store.keys(f"{self._root}/dt=")
            if (match := own_manifest.fullmatch(key))
        }

    def read_attribution(self, day: date) -> dict[str, Any] | None:
        """The archived attribution of a day (read it only for a complete day)."""
        return self._read_json(f"{self.day_prefix(day)}/attribution.json")

    def revision_manifests(self, day: date) -> list[dict[str, Any]]:
        """The manifests a restated day had before, the oldest first (the first is the one its
        daily report was sent with)."""
        folder = f"{self.day_prefix(day)}/revisions/"
        keys = sorted(k for k in self.store.keys(folder) if k.endswith("/manifest.json"))
        return [document for key in keys if (document := self._read_json(key)) is not None]

    def keep_revision(self, day: date, manifest: Mapping[str, Any]) -> str:
        """Copy the day's current manifest, CSV and attribution aside before it is rewritten."""
        base = self.day_prefix(day)
        folder = f"{base}/revisions/{_stamp(str(manifest.get('written_at', '')))}"
        for name in ("csv/usage.csv", "attribution.json", "manifest.json"):
            body = self.store.get(f"{base}/{name}")
            if body is not None:
                self.store.put(f"{folder}/{name}", body, "application/octet-stream")
        return self.store.url(folder)

    def _read_json(self, key: str) -> dict[str, Any] | None:
        body = self.store.get(key)
        return None if body is None else dict(_loads(body))


def _request_entry(r: RawResponse, stored: StoredObject, scrubbed_count: int) -> dict[str, Any]:
    """`scrubbed_count`: credentials replaced before it was written (0: byte for byte)."""
    return {
        "name": r.name,
        "method": r.method,
        "path": r.path,
        "params": [list(pair) for pair in r.params],
        "request_body": json.loads(r.request_body) if r.request_body else None,
        "status": r.status,
        "fetched_at": r.fetched_at.astimezone(UTC).isoformat(),
        "elapsed_seconds": round(r.elapsed_seconds, 3),
        "attempts": r.attempts,
        "object": stored.key,
        "scrubbed": scrubbed_count > 0,
        "scrubbed_count": scrubbed_count,
    }


def _stamp(iso_instant: str) -> str:
    """2026-11-22T07:00:05.123+00:00 -> 20261122T070005Z: sortable, safe in any key or path."""
    return iso_instant[:19].replace("-", "").replace(":", "") + "Z"


def _loads(body: bytes) -> Any:
    """An archived document: orjson (a report reads 30 days of attribution.json), or json for
    what orjson refuses (a lone surrogate escape). Both read what fwcost wrote alike: the
    integers in it (cents, tokens, seconds) stay far below 2^64, past which orjson gives floats."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _json_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, indent=2, sort_keys=False, default=str).encode() + b"\n"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
