"""The one place Logger, Tracer and Metrics are created.

Their settings (service name, namespace, log level) come from POWERTOOLS_* variables that
template.yaml sets in Globals. Tracer switches itself off outside Lambda.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="fwcost")
tracer = Tracer(service="fwcost")
metrics = Metrics(service="fwcost", namespace="fwcost")
