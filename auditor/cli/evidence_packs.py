"""Evidence packs: pack | verify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.common import terminal_safe


@click.group()
def evidence() -> None:
    """Signed evidence packs for an inspector: a run, drills and attestations in one zip."""


@evidence.command("pack")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("drill_dirs", nargs=-1, type=click.Path(file_okay=False))
@click.option("--attestations", type=click.Path(file_okay=False), help="The attestations folder to include.")
@click.option("--key", required=True, type=click.Path(dir_okay=False), help="ed25519 private key (ssh-keygen).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The pack (.zip) to write.")
@click.option("--previous", type=click.Path(dir_okay=False), help="Last year's pack: this one names its SHA256SUMS.")
def evidence_pack(
    run_dir: str, drill_dirs: tuple[str, ...], attestations: str | None, key: str, output: str, previous: str | None
) -> None:
    """Pack RUN_DIR (and DRILL_DIRs), masked, listed in SHA256SUMS and signed with an OpenSSH signature."""
    from auditor.evidence_pack.build import PackRequest, make_pack

    request = PackRequest(
        Path(run_dir),
        [Path(d) for d in drill_dirs],
        None if attestations is None else Path(attestations),
        Path(key),
        Path(output),
        None if previous is None else Path(previous),
    )
    summary = make_pack(request)
    click.echo(f"{summary.output}: {summary.files} files, signed by {summary.signer.fingerprint}")
    click.echo(f"SHA256SUMS sha256 {summary.sums_sha256}")
    if summary.redacted:
        click.echo(f"masked secret-looking values in: {', '.join(summary.redacted)}")
    click.echo(f'allowed_signers line: IDENTITY namespaces="auditor-evidence" {summary.signer.line}')


@evidence.command("verify")
@click.argument("pack", type=click.Path(dir_okay=False))
@click.option("--allowed-signers", required=True, type=click.Path(dir_okay=False), help="ssh-keygen allowed_signers.")
@click.option("--identity", help="The signer's identity in allowed_signers (default: whichever key signed).")
@click.option("--previous", type=click.Path(dir_okay=False), help="The pack before this one: verify it and the chain.")
def evidence_verify(pack: str, allowed_signers: str, identity: str | None, previous: str | None) -> None:
    """Exit 0 only when the signature is good and the pack holds exactly the files SHA256SUMS lists."""
    from auditor.evidence_pack.verify import pack_verdict

    said = pack_verdict(pack, allowed_signers, identity, previous)
    for line in said.lines:  # what the pack's signer wrote (identity, ids, names) is made terminal-safe
        click.echo(terminal_safe(line), err=not said.verified)
    sys.exit(said.exit_code)
