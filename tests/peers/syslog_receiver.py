#!/usr/bin/python3
"""syslog_receiver.py - a syslog peer on a unix datagram socket (tests/integration/paths.sh)

Binds PATH (e.g. /dev/log inside a test's mount namespace), writes each
datagram as one line to OUT, as glibc's syslog(3) sends it:
"<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE".  Exits after --time-limit
seconds or when --stop-file appears.
"""
import argparse
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("out")
ap.add_argument("--time-limit", type=float, default=60)
ap.add_argument("--ready-file")
args = ap.parse_args()

try:
    os.unlink(args.path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(args.path)
os.chmod(args.path, 0o666)
s.settimeout(0.2)
if args.ready_file:
    open(args.ready_file, "w").close()
end = time.monotonic() + args.time_limit
with open(args.out, "a", encoding="utf-8", errors="backslashreplace") as f:
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        f.write(d.decode("utf-8", "backslashreplace").rstrip("\0\n") + "\n")
        f.flush()
