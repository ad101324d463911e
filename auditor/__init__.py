"""auditor: information-security compliance auditor for ISO/IEC 27001 and the Vietnamese plan tasks."""

__version__ = "0.1.0"
