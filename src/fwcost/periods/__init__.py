"""The week and the month: the Monday digest and the month-end statement, built from the archive.

model.py (Cadence, Period) is a leaf the delivery layer imports; the rest is the use case
(pipeline.py), its content (content.py, reconcile.py), its archive (archive.py) and renders.
"""

from fwcost.periods.model import Cadence, Period

__all__ = ["Cadence", "Period"]
