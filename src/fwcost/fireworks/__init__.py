"""The Fireworks billing APIs: a retrying client and the parsers behind it."""

from fwcost.fireworks.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    FireworksClient,
    RequestStats,
    RetryPolicy,
    normalize_account_id,
)
from fwcost.fireworks.errors import (
    Failure,
    FireworksError,
    FireworksGaveUp,
    FireworksHTTPError,
    FireworksParseError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "Failure",
    "FireworksClient",
    "FireworksError",
    "FireworksGaveUp",
    "FireworksHTTPError",
    "FireworksParseError",
    "RequestStats",
    "RetryPolicy",
    "normalize_account_id",
]
