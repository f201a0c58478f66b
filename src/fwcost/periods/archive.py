"""Where a week's digest and a month's statement are archived, beside the days they were built from.

    {prefix}/account={id}/digests/week=2026-W47/
    {prefix}/account={id}/statements/month=2026-10/
        report/report.html|.txt, slack.json, teams/<segment>/...   the reports as sent
        report/<attachments>                 a statement's chargeback CSV and workbook
        billing-summary.json                 the month's billing/summary, as received (scrubbed)
        manifest.json                        written last: every object with its SHA-256, the
                                             issue, and the fingerprint of the days it read
        revisions/issue=1/...                an earlier issue's objects, kept before a revised
                                             statement replaced them

The fingerprint is the SHA-256 of each archived day's attribution.json as its day manifest lists
it: when a day of a closed month is restated, the month's fingerprint changes, and the next run
re-issues the statement, marked revised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from fwcost.archive import DayArchive
from fwcost.archive.stores import StoredObject
from fwcost.periods.model import Cadence, Period

PERIOD_MANIFEST_SCHEMA = "fwcost.period-manifest/1"
FOLDERS = {Cadence.WEEKLY: "digests", Cadence.MONTHLY: "statements"}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class Issued:
    """What an earlier run issued for a period, from its manifest."""

    issue: int
    fingerprint: str
    written_at: str
    team_cents: Mapping[str, int]  # each team's charged cents ("" the rows no team carries)
    manifest: Mapping[str, Any]


class PeriodArchive:
    """Reads and writes the digests and statements of one account, in the days' store."""

    def __init__(self, days: DayArchive) -> None:
        self.days = days
        self.store = days.store

    def prefix(self, period: Period) -> str:
        return f"{self.days.root}/{FOLDERS[period.cadence]}/{period.segment}"

    def url(self, period: Period) -> str:
        return self.store.url(self.prefix(period))

    def report_key(self, period: Period, name: str) -> str:
        """Where a report file goes (known before it is written, so a report can link to it)."""
        return f"{self.prefix(period)}/report/{name}"

    def issued(self, period: Period) -> Issued | None:
        body = self.store.get(f"{self.prefix(period)}/manifest.json")
        if body is None:
            return None
        manifest = dict(json.loads(body))
        return Issued(
            issue=int(manifest["issue"]),
            fingerprint=str(manifest["fingerprint"]),
            written_at=str(manifest["written_at"]),
            team_cents={str(k): int(v) for k, v in manifest.get("team_cents", {}).items()},
            manifest=manifest,
        )

    def write(
        self,
        period: Period,
        *,
        reports: Mapping[str, bytes],
        extra: Mapping[str, bytes],
        details: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Write the reports (under report/) and `extra` files, then the manifest, last."""
        written = [
            self._put(self.report_key(period, name), body) for name, body in reports.items()
        ] + [self._put(f"{self.prefix(period)}/{name}", body) for name, body in extra.items()]
        manifest = {
            "schema": PERIOD_MANIFEST_SCHEMA,
            "account_id": self.days.account_id,
            "cadence": period.cadence.value,
            "period": period.key,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            **details,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "objects": [asdict(o) for o in written],
        }
        body = json.dumps(manifest, indent=2, default=str).encode() + b"\n"
        self.store.put(f"{self.prefix(period)}/manifest.json", body, TYPES[".json"])
        return manifest

    def keep_revision(self, period: Period, issued: Issued) -> str:
        """Copy an issue's objects and manifest under revisions/issue=N/ before they are replaced."""
        base = self.prefix(period)
        folder = f"{base}/revisions/issue={issued.issue}"
        names = [str(o["key"])[len(base) + 1 :] for o in issued.manifest.get("objects", [])]
        for name in [*names, "manifest.json"]:
            body = self.store.get(f"{base}/{name}")
            if body is not None:
                self.store.put(f"{folder}/{name}", body, "application/octet-stream")
        return self.store.url(folder)

    def _put(self, key: str, body: bytes) -> StoredObject:
        return self.store.put(key, body, TYPES.get(key[key.rfind(".") :], "application/json"))


def fingerprint(day_digests: Mapping[str, str]) -> str:
    """One SHA-256 over each day's attribution digest, in day order."""
    lines = "".join(f"{day} {digest}\n" for day, digest in sorted(day_digests.items()))
    return hashlib.sha256(lines.encode()).hexdigest()
