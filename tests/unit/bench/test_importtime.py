"""The benchmark reads `python -X importtime` output: the module's cumulative time and children."""

import pytest
from bench.coldstart import parse_importtime

# Children are printed before their parent, two more spaces deep per level (as Python prints).
REPORT = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 | encodings
import time:        50 |        900 |     json.decoder
import time:        70 |       1000 |   json
import time:        30 |         30 |     fwcost.dates
import time:        20 |       4000 |   fwcost
import time:       500 |       5500 | app
import time:       800 |       8000 | boto3
"""


def test_reads_the_cumulative_time_and_the_heaviest_direct_imports() -> None:
    found = parse_importtime(REPORT, "app")

    assert found.seconds == pytest.approx(0.0055)
    assert found.heaviest == [("fwcost", 0.004), ("json", 0.001)]


def test_a_module_that_was_not_imported_is_an_error() -> None:
    with pytest.raises(ValueError, match="no top-level line for 'httpx'"):
        parse_importtime(REPORT, "httpx")
