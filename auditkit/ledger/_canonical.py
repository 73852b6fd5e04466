"""Canonical JSON: the one byte form of a ledger entry's body (and of a signed manifest).

Keys sorted, no whitespace, UTF-8 without ``\\u`` escapes, and no NaN or infinity (JSON has
none): two programs that agree on the value agree on the bytes, so a hash over them is
reproducible.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical"]


def canonical(obj: Any) -> bytes:
    """The canonical JSON bytes of ``obj``.

    Parameters
    ----------
    obj
        A JSON-compatible value (dicts with string keys, lists, strings, numbers, booleans, None).

    Returns
    -------
    bytes
        ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False)`` encoded as UTF-8.

    Raises
    ------
    ValueError
        ``obj`` holds NaN or an infinity, or a string that UTF-8 cannot encode (a lone surrogate).
    TypeError
        ``obj`` holds a value JSON cannot represent.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
