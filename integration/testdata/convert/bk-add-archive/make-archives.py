#!/usr/bin/env python3
"""Regenerates t.tar and t.tar.gz byte for byte (fixed mtime, owners, order)."""
import gzip, io, tarfile

def entry(tw, name, data=None, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
    if data is None:
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        tw.addfile(ti)
    else:
        ti.size, ti.mode = len(data), mode
        tw.addfile(ti, io.BytesIO(data))

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tw:
    entry(tw, "foo", b"content0")
    entry(tw, "sub")
    entry(tw, "sub/bar", b"content1\n", 0o600)
open("t.tar", "wb").write(buf.getvalue())
with open("t.tar.gz", "wb") as f:
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
        gz.write(buf.getvalue())
