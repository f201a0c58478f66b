"""`fwcost check`: is everything a run needs in place? One line per check, and the fix.

Settings, routing, price book and timezone; Fireworks (key, account, each endpoint as the run
asks it); the archive (a probe written conditionally and removed); SES and Slack when the
routing uses them; and with `send_test`, one message marked TEST to every destination.
The CLI prints `render_report`; the Lambda handler returns `CheckReport.as_dict()`.
"""

from fwcost.check.model import CheckFailed, CheckReport, CheckResult, Section, Status
from fwcost.check.render import render_report
from fwcost.check.runner import raise_if_failed, run_check

__all__ = [
    "CheckFailed",
    "CheckReport",
    "CheckResult",
    "Section",
    "Status",
    "raise_if_failed",
    "render_report",
    "run_check",
]
