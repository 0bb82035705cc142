"""Editable install (``pip install -e .``): the package ``hegui`` is this checkout.

The repository root *is* the package (``sources = {"" = "hegui"}`` in pyproject.toml), so no
folder can go on ``sys.path`` to make ``import hegui`` find it: the root's parent is not
called ``hegui``, and the root itself would make ``engine``, ``facts`` and ``tests``
importable at the top level. The editable wheel instead puts only this folder on ``sys.path``
and imports this module at start-up (``_hegui_editable.pth``); it registers a finder for
exactly one name, ``hegui``. Subpackages are found through ``hegui.__path__`` as usual.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent.parent)


class HeguiCheckoutFinder:
    """Finds the top-level package ``hegui`` in the checkout, and nothing else."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "hegui":
            return None
        return importlib.util.spec_from_file_location(
            "hegui", str(Path(ROOT) / "__init__.py"), submodule_search_locations=[ROOT]
        )


if HeguiCheckoutFinder.__name__ not in {getattr(f, "__name__", "") for f in sys.meta_path}:
    sys.meta_path.append(HeguiCheckoutFinder)
