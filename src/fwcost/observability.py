"""The one place Logger, Tracer and Metrics are created.

The metrics namespace, service dimension and log level come from the POWERTOOLS_* variables that
template.yaml sets in Globals: its "no report delivered" alarm watches exactly that namespace, so
the code must not name another. The Logger is named "fwcost" whatever the environment says,
because the package's own loggers (fwcost.delivery...) reach its JSON handler by that name.
Tracer switches itself off outside Lambda; the CLI disables metrics.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="fwcost")
tracer = Tracer()
metrics = Metrics()
