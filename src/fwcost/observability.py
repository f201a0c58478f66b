"""The one place Logger, Tracer and Metrics are created.

The metrics namespace, service dimension and log level come from the POWERTOOLS_* variables that
template.yaml sets in Globals: its "no report delivered" alarm watches exactly that namespace, so
the code must not name another. The Logger is named "fwcost" whatever the environment says,
because the package's own loggers (fwcost.delivery...) reach its JSON handler by that name.
Tracer switches itself off outside Lambda; the CLI emits no metrics.

The Tracer is made at the first invocation, not at import: creating it imports the X-Ray SDK,
which imports botocore and patches it, and that alone made the handler module's import about
twice boto3's (bench/results/latest.md, cold start). The handler needs botocore only once it
runs, so the work moves out of the import and the first invocation pays it once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="fwcost")
metrics = Metrics()

Handler = Callable[[Any, Any], Any]


@functools.cache
def tracer() -> Tracer:
    """The process's Tracer (X-Ray), created on first use."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def capture_lambda_handler(handler: Handler) -> Handler:
    """Tracer.capture_lambda_handler, with the Tracer created at the first invocation."""
    traced: Handler | None = None

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        nonlocal traced
        if traced is None:
            traced = tracer().capture_lambda_handler(handler)
        return traced(event, context)

    return invoke
