#!/usr/bin/python3
"""dgram_receiver.py - a peer on a unix datagram socket: syslog's /dev/log or
systemd's NOTIFY_SOCKET (tests/integration/paths.sh, daemon.sh, deliver_crash.sh)

Binds PATH and writes each datagram as one line to OUT (appending), e.g. as
glibc's syslog(3) sends it, "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE", or a
notify message, "READY=1".  --timestamps puts the receive time (seconds since
the epoch, 3 decimals) and a space first.  Exits after --time-limit seconds in
all, or --idle seconds without a datagram.
"""
import argparse
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("out")
ap.add_argument("--time-limit", type=float, default=300)
ap.add_argument("--idle", type=float, default=0, help="exit after this long without a datagram (0: never)")
ap.add_argument("--timestamps", action="store_true")
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
last = time.monotonic()
with open(args.out, "a", encoding="utf-8", errors="backslashreplace") as f:
    while time.monotonic() < end:
        if args.idle and time.monotonic() - last > args.idle:
            break
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        last = time.monotonic()
        line = d.decode("utf-8", "backslashreplace").rstrip("\0\n")
        f.write(("%.3f %s\n" % (time.time(), line)) if args.timestamps else line + "\n")
        f.flush()
