"""Network probe types. Adding one = one new module here + one line in the import list below.

The list is in the order a host's probes run (and the run-wide steps finish: markers are searched
before file servers are listed, which a stopped run skips).
"""

from auditor.network.probes import (  # noqa: F401, I001  (each import registers its probe type, in run order)
    exposure,
    https_portal,
    portal_http,
    smtp,
    mailbox,
    log_marker,
    file_server,
)
from auditor.network.probes.base import REGISTRY, Later, ProbeType, Reading, Run, Target, required_params

__all__ = ["REGISTRY", "Later", "ProbeType", "Reading", "Run", "Target", "required_params"]
