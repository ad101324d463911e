import hashlib
import sys
import time

# usage: mkcud.py OUT PAYLOAD AGE_DAYS VERSION MD5MODE(md5|X) [DSIG] [NFIELDS=9]
out, payload, age, ver, md5mode = sys.argv[1:6]
dsig = sys.argv[6] if len(sys.argv) > 6 else "X"
data = open(payload, "rb").read()
epoch = int(time.time()) - int(float(age) * 86400)
datestr = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(epoch))
md5 = hashlib.md5(data).hexdigest() if md5mode == "md5" else "X"
fields = ["ClamAV-VDB", datestr, ver, "1", "216", md5, dsig, "capture-builder", str(epoch)]
hdr = ":".join(fields).encode()
assert len(hdr) <= 512
open(out, "wb").write(hdr.ljust(512, b" ") + data)
print(hdr.decode())
