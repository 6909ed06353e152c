"""A model's data contract (files floor): which input columns it takes, in which order, and what its classes are.

A model file stores the feature names in the order the network reads them, the target column's name, the
task, the class labels with their original types (``7`` stays the int 7, ``"big"`` stays a string) and the
standardisation. Every command that feeds data to a saved model goes through this module, so none of them
can silently read columns in the wrong order or count labels against the wrong classes:

- **Columns.** A file with a header row is matched *by name*: the columns are reordered into the model's
  order; a missing or unexpected column is an error that names it. The model's own target column may be
  present and is set aside. An array or a CSV without a header row has no names, so it is taken *by
  position* and must have exactly as many columns as the model has features.
- **Labels.** A file's labels are mapped through the model's ``class_labels``. Labels are compared by their
  value as text, with whole numbers written without a decimal point, so ``7``, ``7.0`` and ``"7"`` are the
  same class (a model saved with the labels ``'0'..'9'`` still matches a file holding 0..9). A label the
  model does not know is an error naming it and the model's classes: glassnet never scores a row against a
  class the network has no output for.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import LabelError, ShapeError

#: at most this many names are listed in an error message
NAMES_SHOWN = 12


def label_key(label) -> str:
    """The text a label is compared by: 7, 7.0, np.int64(7) and "7" all give "7"."""
    if hasattr(label, "item"):
        label = label.item()
    if isinstance(label, (bool, int)):
        return str(label)
    if isinstance(label, str):
        try:
            number = float(label.strip())
        except ValueError:
            return label.strip()
        return _whole(number) or label.strip()
    if isinstance(label, float):
        return _whole(label) or str(label)
    return str(label)


def _whole(number: float) -> str | None:
    """"7" for 7.0; None for anything that is not a whole number of exact size."""
    if math.isfinite(number) and number == int(number) and abs(number) < 2 ** 53:
        return str(int(number))
    return None


def encode_labels(labels, class_labels, source: str) -> np.ndarray:
    """Class indices ``(n_samples,)`` of ``labels`` (original values) in the model's ``class_labels``.

    Raises :class:`LabelError` naming every label the model does not know.
    """
    index = {}
    for position, label in enumerate(class_labels):
        index.setdefault(label_key(label), position)
    keys = [label_key(label) for label in labels]
    unknown = sorted(set(keys) - set(index))
    if unknown:
        raise LabelError(f"{source}: {_listing(unknown)} {'is' if len(unknown) == 1 else 'are'} not among the "
                         f"model's classes ({_listing(map(label_key, class_labels))}); a model can only be scored "
                         f"on the classes it was trained on")
    return np.array([index[key] for key in keys], dtype=np.int64)


def align_columns(names, X, feature_names, source: str, target: str | None = None) -> np.ndarray:
    """``X`` with its columns in the model's order.

    ``names``: the file's column names (None for data without a header row, which is taken by position);
    ``feature_names``: the model's, in the network's input order (empty for a model that never had any);
    ``target``: the model's target column, which may appear in ``names`` and is then left out.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ShapeError(f"{source}: expected a table (samples, features), got an array of shape {X.shape}")
    return X[:, column_order(names, X.shape[1], feature_names, source, target)]


def column_order(names, n_columns: int, feature_names, source: str, target: str | None = None) -> list[int]:
    """The file's column index of each of the model's features, in the model's order (see
    :func:`align_columns`); raises :class:`ShapeError` naming missing, unexpected or repeated columns."""
    if names is None or not feature_names:
        expected = len(feature_names) if feature_names else n_columns
        if n_columns != expected:
            raise ShapeError(f"{source}: {n_columns} columns without names, but the model takes {expected} "
                             f"features; give exactly {expected} columns in the training order, or a header row")
        return list(range(n_columns))
    names = [str(n).strip() for n in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ShapeError(f"{source}: the header names {_listing(duplicated)} more than once")
    missing = [n for n in feature_names if n not in names]
    extra = [n for n in names if n not in feature_names and n != target]
    if missing or extra:
        raise ShapeError(_mismatch(source, missing, extra, feature_names))
    return [names.index(n) for n in feature_names]


def _mismatch(source: str, missing, extra, feature_names) -> str:
    parts = []
    if missing:
        parts.append(f"missing {_listing(missing)}")
    if extra:
        parts.append(f"unexpected {_listing(extra)}")
    hint = " (renamed?)" if missing and extra and len(missing) == len(extra) else ""
    return (f"{source}: the columns do not match the model's features: {'; '.join(parts)}{hint}. "
            f"The model takes {len(feature_names)} features: {_listing(feature_names)}")


def _listing(names) -> str:
    names = [repr(n) if isinstance(n, str) else str(n) for n in names]
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
