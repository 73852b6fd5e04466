"""``python -m auditkit``: the ``audit`` command.

``python -m`` puts the current folder first on ``sys.path``. Run from inside an audited folder,
a ``sklearn/`` or ``numpy/`` package planted there would then be imported instead of the real
one -- also for the names a pickle's trust list allows. The console script ``audit`` does not
do this, so neither does ``python -m auditkit``: the entry is removed before anything else is
imported.
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from auditkit.cli import main  # noqa: E402  (after the sys.path fix, on purpose)

main()
