"""Fact types. Adding one = one new module here + one line in the import list below."""

from auditor.facts import (  # noqa: F401  (each import registers its fact types)
    clamav,
    command,
    config_grep,
    files,
    firewall,
    kernel_module,
    package,
    process,
    sshd,
    syslog,
)
from auditor.facts.base import REGISTRY, FactType, FactUnreadable, RawOutput

__all__ = ["REGISTRY", "FactType", "FactUnreadable", "RawOutput"]
