"""Network probe types. Adding one = one new module here + one line in the import list below."""

from auditor.network.probes import (  # noqa: F401  (each import registers its probe type)
    exposure,
    file_server,
    https_portal,
    log_marker,
    mailbox,
    portal_http,
    smtp,
)
from auditor.network.probes.base import REGISTRY, Later, ProbeType, Reading, Run, Target, required_params

__all__ = ["REGISTRY", "Later", "ProbeType", "Reading", "Run", "Target", "required_params"]
