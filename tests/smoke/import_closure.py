"""Import the built handler and every fwcost module with nothing but the built artifact.

Run by test_built_artifact.py as `python -S` (no site-packages) with PYTHONPATH set to the built
layer's python/ folder, the built function folder and a folder holding only what the Lambda
Python runtime provides (boto3 and its dependencies). A dependency missing from the layer fails
here with ModuleNotFoundError. Prints where each top-level package came from, as JSON.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys


def main() -> None:
    import app  # the built function's handler module
    import fwcost

    for module in pkgutil.walk_packages(fwcost.__path__, prefix="fwcost."):
        importlib.import_module(module.name)
    assert callable(app.lambda_handler)

    origins = {
        name: getattr(module, "__file__", None)
        for name, module in sys.modules.items()
        if "." not in name and name not in sys.stdlib_module_names
    }
    print(json.dumps({"python": sys.version.split()[0], "origins": origins}))


if __name__ == "__main__":
    main()
