"""Action types. Adding one = one new module here + one line in the import list below."""

from auditor.drill.actions import (  # noqa: F401  (each import registers its action type)
    backup_restore,
    eicar,
    firewall_block,
    log_delivery,
    port_scan,
    ssh_bruteforce,
)
from auditor.drill.actions.base import REGISTRY, ActContext, ActionType, DrillError, Outcome

__all__ = ["REGISTRY", "ActContext", "ActionType", "DrillError", "Outcome"]
