"""fwcost: daily Fireworks AI usage and cost reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fwcost")
except PackageNotFoundError:  # running from a source tree or a Lambda layer without metadata
    __version__ = "0.1.0"
