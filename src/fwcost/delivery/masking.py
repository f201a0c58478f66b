"""Masking secret values (webhook URLs, bot tokens) out of error text and log records."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

MASK = "***"
# Shorter fragments would mask ordinary words; real tokens and webhook paths are far longer.
_MIN_FRAGMENT = 8


class SecretMasker:
    """Replaces every known secret value, and the path of every secret URL, with ***.

    The path is masked on its own because a webhook URL's secret part is its path, and a client
    pointed at another host (a test fake, a proxy) logs that path under a different host.
    """

    def __init__(self, secret_values: Iterable[str]) -> None:
        fragments: set[str] = set()
        for value in secret_values:
            fragments.add(value)
            path = urlsplit(value).path if "://" in value else ""
            fragments.add(path)
        # Longest first, so a URL is masked whole before its path is.
        self._fragments = sorted(
            (fragment for fragment in fragments if len(fragment) >= _MIN_FRAGMENT),
            key=len,
            reverse=True,
        )

    def mask(self, text: str) -> str:
        for fragment in self._fragments:
            text = text.replace(fragment, MASK)
        return text

    def log_filter(self, record: logging.LogRecord) -> bool:
        """A logging filter: rewrites the record's message with secrets masked, keeps it."""
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback's text can quote a URL; keep the type and masked message only.
            record.msg += f" ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True

    def private_logger(self, name: str, parent: logging.Logger) -> logging.Logger:
        """A logger for a third-party client whose records are masked before any handler runs.

        Not registered with logging's manager (so one per sender does not accumulate globally);
        its records propagate to `parent`'s handlers like any child logger's.
        """
        logger = logging.Logger(name)
        logger.parent = parent
        logger.addFilter(self.log_filter)
        return logger
