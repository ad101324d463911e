"""Namespace test lab for the auditor (see README.md)."""
