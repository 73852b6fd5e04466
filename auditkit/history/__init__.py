"""The history of a policy's audits, read from an audit ledger.

``history_points`` turns ledger entries into one point per (entry, rule), with markers where
the model, the policy or the data changed; ``trend_frame`` is one metric's points as a
DataFrame; ``render_history`` writes the history as a self-contained HTML page, a CSV table or
a JSON document. ``audit history LEDGER --out FILE`` (``auditkit.history._cli``) does it from
the command line. Nothing here opens a database: callers pass the entries
(``auditkit.ledger.Ledger(url).records(...)``).
"""

from __future__ import annotations

from ._render import render_history
from ._series import history_points, trend_frame

__all__ = ["history_points", "render_history", "trend_frame"]
