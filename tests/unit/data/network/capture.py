"""Capture the unit-test data of tests/unit/test_network_*.py from a real lab (root; AUDITOR_LAB_NET=N).

    AUDITOR_LAB_NET=4 python tests/unit/data/network/capture.py

Starts the network profiles (portal, portalbad, mailtls, insecure, logserver) on audlab<N>c,
runs the auditor's own nmap arguments over them through python-nmap and stores the result dict
(scan.json) and the XML (scan.xml); then sends the auditor's raw ClientHellos to the portals and
stores each server's first answer bytes (hello-*.bin) and the served certificates (cert-*.der).
"""

from __future__ import annotations

import json
import ssl
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from auditor.network import scan, tls  # noqa: E402
from tests.lab.lab import Lab, lab_network  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    bridge, subnet = lab_network()
    lab = Lab(["portal", "portalbad", "mailtls", "insecure", "logserver"], bridge=f"{bridge}c",
              subnet=subnet.replace(".0/24", ".128/26"))
    lab.start()
    try:
        addrs = {h.name: h.address for h in lab.hosts}
        versiondb = scan.capped_probes_file(1000, tempfile.mkdtemp())
        args = scan.nmap_arguments(scan.DEFAULT_TCP_PORTS, True, 60, versiondb=versiondb)
        run = scan.run_nmap(sorted(addrs.values()), args, 600)
        assert run.error is None, run.error
        (HERE / "scan.json").write_text(json.dumps({"hosts": addrs, "arguments": args, "result": run.result},
                                                   indent=1, sort_keys=True))
        (HERE / "scan.xml").write_text(run.xml)
        for name in ("portal1", "portalbad1"):
            a = addrs[name]
            for label, version, suites in (("tls10", tls.TLS10, tls.BROAD_SUITES), ("ssl3", tls.SSL3, tls.BROAD_SUITES),
                                           ("weak", tls.TLS12, list(tls.WEAK_SUITES))):
                _, data = tls.raw_hello(a, 443, version, suites, None, 5)
                (HERE / f"hello-{name}-{label}.bin").write_bytes(data[:4096])
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            import socket

            with socket.create_connection((a, 443), 5) as s, ctx.wrap_socket(s, server_hostname=a) as t:
                (HERE / f"cert-{name}.der").write_bytes(t.getpeercert(binary_form=True))
        print("captured from", addrs)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
