"""``python -m auditkit.metrics``: print docs/metrics.md (every metric, from the registry)."""

from auditkit.metrics._reference import metrics_markdown
from auditkit.packs import plugins

plugins()  # the packs' metrics join the registry when the packs are discovered
print(metrics_markdown(), end="")
