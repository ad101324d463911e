"""Signed evidence packs: a run's (and drills') files in a zip an inspector checks with stock tools.

``build`` makes a pack, ``verify`` checks one, ``signing`` wraps ``ssh-keygen -Y`` and ``members``
reads a zip without trusting it. The formats are fixed here so the two sides cannot drift apart.
"""

from __future__ import annotations

from auditor.errors import InputError

FORMAT = "auditor.evidence-pack/1"
NAMESPACE = "auditor-evidence"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
MANIFEST = "manifest.json"
# Written outside SHA256SUMS: the list cannot hold its own digest, nor the signature made over it.
UNLISTED = (SUMS, SIGNATURE)


class PackInvalid(Exception):
    """The pack is not what its signer packed (or not a pack at all): exit 1, with every reason found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class PackInputError(InputError):
    """A pack cannot be made from what was given (no results.json, a symlink, a locked key): exit 2."""


class SigningUnavailable(OSError):
    """ssh-keygen is missing or failed in a way that is not the pack's fault: the environment, exit 3."""
