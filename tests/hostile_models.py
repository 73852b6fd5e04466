"""Model classes that misbehave, importable by name so that pickles of them can be loaded.

tests/ is on ``sys.path`` when pytest runs (the tests import ``policies`` the same way), and
``audit check`` runs in-process under click's CliRunner, so a pickle naming
``hostile_models.Hostile`` unpickles in the tests. Each instance behaves according to ``kind``.
"""

from __future__ import annotations

import sys

import numpy as np


class HostileInterrupt(BaseException):
    """A BaseException that is neither Exception, SystemExit nor KeyboardInterrupt."""


class UnprintableError(Exception):
    """An exception whose message is model code that ends the process when it is read."""

    def __str__(self):
        sys.exit(0)


def _proba(n: int) -> np.ndarray:
    p = np.linspace(0.05, 0.95, n)
    return np.column_stack([1 - p, p])


class Hostile:
    """A binary classifier over the column ``age`` whose ``predict_proba`` misbehaves as told."""

    feature_names_in_ = np.array(["age"])

    def __init__(self, kind: str, when: str = "always") -> None:
        self.kind = kind
        self.when = when  # "always", or "explain": behave in the audit, misbehave when explained
        self.calls = 0

    @property
    def classes_(self):
        if self.kind == "classes-exit":
            sys.exit(0)
        if self.kind == "classes-raise":
            raise RuntimeError("classes_ is computed lazily\nand failed")
        if self.kind == "classes-three":
            return np.array(["bad", "good", "maybe"])
        return np.array(["bad", "good"])

    def predict(self, X):
        return np.where(self.predict_proba(X)[:, 1] >= 0.5, "good", "bad")

    def predict_proba(self, X):
        n = len(X)
        self.calls += 1
        if self.when == "explain" and self.calls == 1:
            return _proba(n)
        kind = self.kind
        if kind == "exit0":
            sys.exit(0)
        if kind == "exit-text":
            sys.exit("model says: all rules passed")
        if kind == "base-exception":
            raise HostileInterrupt("not an Exception")
        if kind == "generator-exit":
            raise GeneratorExit()
        if kind == "unprintable":
            raise UnprintableError()
        if kind == "interrupt":
            raise KeyboardInterrupt()
        if kind == "ansi-message":
            raise RuntimeError("\x1b[2K\r\x1b[32mPASS\x1b[0m\n" * 50_000)
        if kind == "above-one":
            p = _proba(n)
            p[3] = [-0.5, 1.5]
            return p
        if kind == "not-summing":
            p = _proba(n)
            p[7] = [0.3, 0.3]
            return p
        if kind == "three-columns":
            return np.full((n, 3), 1 / 3)
        if kind == "one-d":
            return _proba(n)[:, 1]
        if kind == "nan":
            p = _proba(n)
            p[11] = [np.nan, np.nan]
            return p
        if kind == "wrong-length":
            return _proba(n - 1)
        if kind == "object":
            return _proba(n).astype(object)
        if kind == "complex":
            return _proba(n).astype(complex)
        if kind == "three-d":
            return _proba(n)[:, :, None]
        return _proba(n)


class LabelOnly:
    """A classifier without predict_proba whose predict returns what it is told."""

    feature_names_in_ = np.array(["age"])

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def predict(self, X):
        n = len(X)
        labels = np.where(np.arange(n) % 2 == 0, "good", "bad").astype(object)
        if self.kind == "none-label":
            labels[5] = None
        elif self.kind == "nan-label":
            labels[5] = float("nan")
        elif self.kind == "two-columns":
            return np.column_stack([labels, labels])
        elif self.kind == "exit":
            sys.exit(0)
        return labels


class ExitOnLoad:
    """Unpickling this (with trust) runs ``sys.exit(0)`` from ``__setstate__``."""

    feature_names_in_ = np.array(["age"])
    classes_ = np.array(["bad", "good"])

    def __init__(self) -> None:
        self.version = 1  # some state, so that unpickling calls __setstate__

    def __setstate__(self, state):
        sys.exit(0)

    def predict_proba(self, X):  # pragma: no cover - never reached
        return _proba(len(X))


class FailingSteps:
    """A model whose ``steps`` and ``feature_names_in_`` are properties that end the process."""

    classes_ = np.array(["bad", "good"])

    @property
    def feature_names_in_(self):
        sys.exit(0)

    @property
    def steps(self):
        sys.exit(0)

    def predict_proba(self, X):  # pragma: no cover - never reached
        return _proba(len(X))


class CoefExit(Hostile):
    """Predicts fine; reading ``coef_`` (as the linear explanation path does) ends the process."""

    @property
    def coef_(self):
        sys.exit(0)
