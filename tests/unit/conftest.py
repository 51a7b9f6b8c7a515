"""Load addons/mfg_integration/lib as the plain package ``mfg_integration_lib``.

The lib has no ORM import: its tests need neither a database nor the addon's
``__init__`` (which imports Odoo models), so they run in milliseconds.
"""

import importlib.util
import pathlib
import sys

LIB = pathlib.Path(__file__).resolve().parents[2] / "addons" / "mfg_integration" / "lib"

if "mfg_integration_lib" not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        "mfg_integration_lib", LIB / "__init__.py", submodule_search_locations=[str(LIB)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mfg_integration_lib"] = module
    spec.loader.exec_module(module)
