"""A stand-in for the Lambda context: the attributes Powertools and the handler read. One class
for every test that invokes the handler in-process (a fixture in conftest.py, the deploy
rehearsal, the state machine's walk)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "fwcost-daily-report"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fwcost-daily-report"
    aws_request_id: str = "0f6d6d5c-7a1b-4c1e-9c55-3b1f7b7f0001"
    remaining_millis: int = 900_000  # a fresh invocation of the function (Timeout: 900)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
