"""Check configuration values against dataclass type hints; every error names the key and what is expected.

Used by :class:`tagger.config.TrainConfig` for all of its fields, so a field added later is checked too (a test
asserts that every field's hint is one :func:`coerce` understands).
"""

from __future__ import annotations

import math
import os
import types
from dataclasses import is_dataclass
from enum import Enum
from typing import Any, Union, get_args, get_origin

from tagger.errors import ConfigError

_NONE = type(None)


def coerce(key: str, hint: Any, value: Any) -> Any:
    """``value`` in the shape ``hint`` asks for, or :class:`ConfigError` naming ``key``.

    Hints: ``bool``, ``int``, ``float``, ``str``, str ``Enum``s, ``list[X]``, ``dict[str, X]``, ``X | None`` and
    dataclasses with a ``from_dict`` classmethod (given as a mapping). Lenient only where YAML is ambiguous:
    numbers written as text (PyYAML reads ``5e-5`` as a string) become numbers and an integral float becomes an
    int (``8.0`` -> 8); a ``Path`` is accepted as a string. Booleans are never numbers, numbers are never
    strings, a string is never a list, and NaN/infinity are not numbers here.
    """
    if _is_optional(hint):
        if value is None:
            return None
        hint = next(arg for arg in get_args(hint) if arg is not _NONE)
    if value is None:
        raise ConfigError(f"{key}: expected {describe(hint)}, got null; give a value or remove the key for the default")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _wrong(key, hint, value)
    if hint in (int, float):
        return _number(key, hint, value)
    if hint is str:
        if isinstance(value, (str, os.PathLike)):  # a Path from Python callers is a path string
            return os.fspath(value) if not isinstance(value, str) else value
        scalar = isinstance(value, (bool, int, float))
        raise _wrong(key, hint, value, f'; quote it if it is meant as text: {key}: "{value}"' if scalar else "")
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(key, hint, value)
    origin, args = get_origin(hint), get_args(hint)
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(key, hint, value, f"; write a list, e.g. {key}: [{value}]" if isinstance(value, str) else "")
        return [coerce(f"{key}[{i}]", args[0], item) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _wrong(key, hint, value)
        return {coerce(f"{key} key", args[0], k): coerce(f"{key}.{k}", args[1], v) for k, v in value.items()}
    if isinstance(hint, type) and is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if isinstance(value, dict):
            return hint.from_dict(value)  # type: ignore[attr-defined]
        raise _wrong(key, hint, value, f"; write the settings as a mapping, e.g. {key}: {{name: value}}")
    raise TypeError(f"{key}: no value check for the type hint {hint!r} (extend tagger.config_types.coerce)")


def is_supported(hint: Any) -> bool:
    """True when :func:`coerce` can check values of ``hint``."""
    if _is_optional(hint):
        return is_supported(next(arg for arg in get_args(hint) if arg is not _NONE))
    if hint in (bool, int, float, str):
        return True
    if isinstance(hint, type):
        return issubclass(hint, Enum) or (is_dataclass(hint) and hasattr(hint, "from_dict"))
    origin, args = get_origin(hint), get_args(hint)
    return (origin is list and is_supported(args[0])) or (origin is dict and all(map(is_supported, args)))


def describe(hint: Any) -> str:
    """What a value of ``hint`` looks like, for messages: ``a list of strings``, ``an integer or null``..."""
    if _is_optional(hint):
        return describe(next(arg for arg in get_args(hint) if arg is not _NONE)) + " or null"
    simple = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return f"one of {[m.value for m in hint]}"
    origin, args = get_origin(hint), get_args(hint)
    if origin is list:
        return f"a list of {_plural(args[0])}"
    if origin is dict:
        return f"a mapping of {_plural(args[0])} to {_plural(args[1])}"
    return "a mapping of settings"


def _is_optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and _NONE in get_args(hint) and len(get_args(hint)) == 2


def _plural(hint: Any) -> str:
    return {bool: "booleans", int: "integers", float: "numbers", str: "strings"}.get(hint, "values")


def value_kind(value: Any) -> str:
    """What a parsed YAML/JSON value is, for messages: ``a boolean`` (``true``), ``a number`` (``6.9``), ``null``..."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", _NONE: "null"}
    return names.get(type(value), type(value).__name__)


def _wrong(key: str, hint: Any, value: Any, advice: str = "") -> ConfigError:
    return ConfigError(f"{key}: expected {describe(hint)}, got {value!r} ({value_kind(value)}){advice}")


def _number(key: str, kind: type, value: Any) -> int | float:
    """An int or float from a number or numeric text; bools, NaN, infinity and fractional ints are errors."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        if kind is int and isinstance(value, int):
            return value
        if kind is int and isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and (kind is float or number.is_integer()):
            return kind(number)
    advice = " (true/false is not a number)" if isinstance(value, bool) else ""
    raise ConfigError(f"{key}: expected {describe(kind)}, got {value!r}{advice}")


def _enum(key: str, hint: type[Enum], value: Any) -> Enum:
    if isinstance(value, hint):
        return value
    if isinstance(value, str):
        try:
            return hint(value)
        except ValueError:
            pass
    raise ConfigError(f"{key}: expected {describe(hint)}, got {value!r}")
