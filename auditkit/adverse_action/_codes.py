"""Reason codes: which model input may be stated as a reason, and in which words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import AuditkitError

__all__ = ["ReasonCodes"]

# "R01 Too many recent inquiries": a code is a first word with a digit and no lower-case letter.
_CODE = re.compile(r"^(?P<code>[A-Z0-9][A-Z0-9_.-]*\d[A-Z0-9_.-]*)\s+(?P<statement>\S.*)$")


@dataclass(frozen=True)
class ReasonCodes:
    """The statement of each model input that may be stated as a reason.

    Parameters
    ----------
    codes : mapping of column -> text, optional
        ``"R01 Too many recent inquiries"``: a leading code (a first word holding a digit and
        no lower-case letter) and the statement; text without a code is the statement alone,
        with the column's name as its code. Without codes, every reason is stated by its column.
    exclude : iterable of str
        Inputs never stated as reasons.
    protected : iterable of str
        Sensitive features and inputs flagged as their proxies: never stated unless ``allow``
        names them.
    allow : iterable of str
        Protected inputs the policy explicitly allows to be stated.
    fallback : str, optional
        The code and statement of an input the codes do not map; without it an unmapped input
        is an error naming it.
    """

    codes: Mapping[str, str] | None = None
    exclude: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    fallback: str | None = None

    def stateable(self, columns: Iterable[str]) -> list[str]:
        """The inputs that may be stated as reasons, in the given order."""
        never = set(self.exclude) | (set(self.protected) - set(self.allow))
        return [c for c in columns if c not in never]

    def check(self, columns: Iterable[str], where: str = "reasons.codes") -> None:
        """Every stateable input has a statement (or there is a fallback).

        Raises
        ------
        AuditkitError
            An input without a code and no fallback, naming it.
        """
        if self.codes is None or self.fallback is not None:
            return
        unmapped = [c for c in self.stateable(columns) if c not in self.codes]
        if unmapped:
            shown = ", ".join(unmapped[:8]) + (" …" if len(unmapped) > 8 else "")
            raise AuditkitError(f"{where}: no reason code for the model input(s) {shown}; add them to the codes, "
                                "list them under reasons.exclude, or declare reasons.fallback.")

    def statement(self, column: str) -> tuple[str, str]:
        """``(code, statement)`` of an input."""
        text = None if self.codes is None else self.codes.get(column)
        if text is None and self.codes is not None:
            text = self.fallback
        return _split(text, column)


def _split(text: str | None, column: str) -> tuple[str, str]:
    if text is None:
        return column, column
    match = _CODE.match(text.strip())
    if match:
        return match["code"], match["statement"]
    return column, text.strip()
