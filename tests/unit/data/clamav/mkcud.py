"""Build an unsigned ClamAV .cud the way `sigtool --unsigned --build` does (verified against sigtool 1.4.6 output):
512-byte header  ClamAV-VDB:<dd Mon yyyy HH-MM +0000>:<version>:<sigs>:<flevel>:<md5 of the tar.gz>:X:<builder>:<epoch>  (space padded)
then a tar.gz holding COPYING, <db>.info (first line = same header but with X:X, then one 'file:size:sha256' line per db file)
and the db files. usage: mkcud2.py OUT AGE_DAYS [VERSION] [MD5MODE md5|X]
env DATE_AGE_DAYS (default AGE_DAYS) ages the human-readable date independently of the epoch field."""

import gzip
import hashlib
import io
import sys
import tarfile
import time

out, age = sys.argv[1], float(sys.argv[2])
ver = sys.argv[3] if len(sys.argv) > 3 else "27000"
md5mode = sys.argv[4] if len(sys.argv) > 4 else "md5"
hdb = b"44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n"
epoch = int(time.time() - age * 86400)
import os

datestr = time.strftime(
    "%d %b %Y %H-%M +0000", time.gmtime(time.time() - float(os.environ.get("DATE_AGE_DAYS", age)) * 86400)
)
common = lambda md5, dsig: ":".join(
    ["ClamAV-VDB", datestr, ver, "1", "216", md5, dsig, "capture-builder", str(epoch)]
)
info = (common("X", "X") + "\n" + "daily.hdb:%d:%s\n" % (len(hdb), hashlib.sha256(hdb).hexdigest())).encode()
bio = io.BytesIO()
with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as tf:
    for name, data in (
        ("COPYING", b"Capture test database, not for production\n"),
        ("daily.info", info),
        ("daily.hdb", hdb),
    ):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0
        ti.mtime = 0
        tf.addfile(ti, io.BytesIO(data))
payload = gzip.compress(bio.getvalue(), mtime=0)
hdr = common(hashlib.md5(payload).hexdigest() if md5mode == "md5" else "X", "X").encode()
assert len(hdr) <= 512
open(out, "wb").write(hdr.ljust(512, b" ") + payload)
print(hdr.decode())
