"""model.quick_constructor builds exactly what the frozen dataclass's own constructor builds."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, asdict, replace
from datetime import date

import pytest

from fwcost.model import DedicatedUsage, ServerlessUsage, TrainingUsage, quick_constructor

DAY = date(2026, 5, 28)
SERVERLESS = (DAY, "m", "key", "name", "team", "project", "prod", "TEXT", 10, 2, 3, 0.5, 7)
GPU = (DAY, "a", "b", "c", "d", "team", "project", "prod", "GPU", 3600)


@pytest.mark.parametrize(
    ("record", "values"),
    [(ServerlessUsage, SERVERLESS), (DedicatedUsage, GPU), (TrainingUsage, GPU)],
)
def test_the_quick_constructor_builds_the_record_itself(record: type, values: tuple) -> None:
    quick = quick_constructor(record)(*values)
    usual = record(*values)
    assert type(quick) is record
    assert quick == usual and hash(quick) == hash(usual) and repr(quick) == repr(usual)
    assert asdict(quick) == asdict(usual)
    assert pickle.loads(pickle.dumps(quick)) == usual
    assert replace(quick, team="other") == replace(usual, team="other")
    for instance in (quick, usual):
        with pytest.raises(FrozenInstanceError):
            instance.team = "other"
        # No attribute outside the fields (Python 3.11's frozen slots dataclass says so with
        # a TypeError, a later Python with an AttributeError)
        with pytest.raises((AttributeError, TypeError)):
            instance.extra = 1


def test_keywords_and_defaults_as_the_record_takes_them() -> None:
    quick = quick_constructor(ServerlessUsage)
    assert quick(*SERVERLESS[:-1]) == ServerlessUsage(*SERVERLESS[:-1])  # cost_nano_usd: None
    fields = dict(zip(ServerlessUsage.__slots__, SERVERLESS, strict=True))
    assert quick(**fields) == ServerlessUsage(*SERVERLESS)
    with pytest.raises(TypeError):
        quick(*SERVERLESS[:3])
