"""Names a package exports without importing their modules until first use
(PEP 562), so that importing the package stays light."""
import importlib
from typing import Callable, Mapping


def lazy_names(package: str, modules: Mapping[str, str]) -> Callable:
    """A module ``__getattr__`` for ``package`` that imports
    ``modules[name]`` (relative to ``package``, e.g. ``'.apis'``) when
    ``name`` is first used and returns its ``name``."""

    def __getattr__(name: str):
        if name in modules:
            module = importlib.import_module(modules[name], package)
            return getattr(module, name)
        raise AttributeError(f'module {package!r} has no attribute {name!r}')

    return __getattr__
