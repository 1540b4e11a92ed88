"""One base class for every error a user can cause; the CLI catches :class:`TaggerError` in one place.

A message says what was wrong, where (``file:line``, text index, task id, config key) and what to do. The
classes also derive from the built-in class that fits (``ValueError``, ``OSError``...), so callers that catch
those keep working.
"""

from __future__ import annotations


class TaggerError(Exception):
    """Base of all arabic-tagger errors caused by input, configuration or files (not by bugs)."""


class ConfigError(TaggerError, ValueError):
    """A configuration value or key is invalid; the message says which and what is allowed."""


class DataError(TaggerError, ValueError):
    """Input data is malformed; the message names ``file:line`` and the problem."""


class ModelLoadError(TaggerError, OSError):
    """A model or tokenizer could not be loaded; the message says what to do."""


class HubUnavailableError(ModelLoadError):
    """A hub id was given but the Hugging Face hub cannot be reached (and the model is not cached)."""


class OutputError(TaggerError, OSError):
    """An output path cannot be written safely (it would replace or truncate something the user owns)."""


class EvalError(TaggerError, ValueError):
    """Evaluation inputs do not fit together (e.g. data without the labels a model predicts)."""
