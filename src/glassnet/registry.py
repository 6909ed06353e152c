"""Name -> factory tables (ground floor): one per kind of named thing (activations, costs, initializers, ...).

The CLI, configs, the scikit-learn wrapper and the web page all resolve names here, so an unknown name
gives the same error everywhere, listing the names that are valid.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator

from .errors import ConfigError, UnknownNameError


class Registry:
    """A table of named factories of one kind.

    >>> ACTIVATIONS.get("relu")            # an instance, built by its factory
    >>> ACTIVATIONS.get({"name": "leaky_relu", "alpha": 0.1})   # a config dict
    """

    def __init__(self, kind: str, base: type | None = None):
        self.kind = kind
        self.base = base
        self._factories: Dict[str, Callable[..., Any]] = {}
        self._aliases: set[str] = set()
        self._info: Dict[str, dict] = {}

    def register(self, name: str, factory: Callable[..., Any] | None = None, alias: bool = False, **info: Any):
        """Register ``factory`` under ``name`` (``alias``: a second name for something already registered);
        ``info`` keeps facts about it for listings (a description, a kind). Usable as a decorator."""

        def add(f):
            self._factories[name] = f
            if alias:
                self._aliases.add(name)
            if info:
                self._info[name] = dict(info)
            return f

        return add(factory) if factory is not None else add

    def names(self, aliases: bool = True) -> list[str]:
        """Every name that resolves, or only the canonical ones (``aliases=False``)."""
        return sorted(n for n in self._factories if aliases or n not in self._aliases)

    def info(self, name: str) -> dict:
        """What was registered about ``name`` besides its factory ({} when nothing)."""
        self.factory(name)  # an unknown name gives the usual error
        return dict(self._info.get(name.lower(), {}))

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def factory(self, name: str) -> Callable[..., Any]:
        """The class or function registered under ``name`` (case-insensitive); an unknown name is an UnknownNameError
        listing the valid ones."""
        if not isinstance(name, str):
            raise ConfigError(f"{self.kind} name must be a string, got {type(name).__name__}: {name!r}")
        try:
            return self._factories[name.lower()]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; valid {self.kind} names are: {', '.join(self.names())}"
            ) from None

    def get(self, spec: Any, **kwargs: Any) -> Any:
        """Resolve ``spec``: an instance of the base class (returned as is), a name, or ``{"name": ..., **params}``."""
        if self.base is not None and isinstance(spec, self.base):
            return spec
        if isinstance(spec, dict):
            params = dict(spec)
            name = params.pop("name", None)
            if name is None:
                raise ConfigError(f"{self.kind} config {spec!r} has no 'name' key")
            return self._build(name, {**params, **kwargs})
        return self._build(spec, kwargs)

    def _build(self, name: Any, params: dict) -> Any:
        factory = self.factory(name)
        try:
            return factory(**params)
        except TypeError as exc:
            raise ConfigError(f"bad parameters for {self.kind} {name!r}: {exc}") from None
