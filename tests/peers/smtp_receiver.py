#!/usr/bin/python3
"""smtp_receiver.py - a loopback SMTP relay for kvpscan's email tests.

Run with /usr/bin/python3 (needs Debian's python3-aiosmtpd).  Listens on
127.0.0.1 on a free port and writes the port to --port-file once it accepts
connections.  Every message is saved raw as DIR/msg-N.eml; every event goes
to DIR/session.log as one line ("connection N", "message N conn=C tls=yes
auth=user", "refused ...") so a test can count connections.  Exits after
--lifetime seconds or on SIGTERM.

Modes:
  (default)                     plain SMTP, no STARTTLS offered
  --cert C --key K              offer STARTTLS and require it before MAIL
  --cert C --key K --implicit   TLS from the first byte (smtps)
  --user U --password P         require AUTH (PLAIN, LOGIN) with these
  --fault rcpt451|rcpt550|data451|data550   refuse RCPT or DATA
"""
import argparse
import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class State:
    def __init__(self, directory):
        self.directory = directory
        self.connections = 0
        self.messages = 0

    def log(self, line):
        with open(os.path.join(self.directory, "session.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Handler:
    def __init__(self, state, fault):
        self.state = state
        self.fault = fault

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fault == "rcpt451":
            self.state.log("refused rcpt 451")
            return "451 4.3.0 temporary failure, try again later"
        if self.fault == "rcpt550":
            self.state.log("refused rcpt 550")
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fault == "data451":
            self.state.log("refused data 451")
            return "451 4.3.0 temporary failure, try again later"
        if self.fault == "data550":
            self.state.log("refused data 550")
            return "550 5.7.1 message refused"
        self.state.messages += 1
        n = self.state.messages
        path = os.path.join(self.state.directory, "msg-%d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        self.state.log("message %d conn=%d tls=%s auth=%s rcpts=%d" % (
            n, getattr(server, "conn_no", 0), "yes" if session.ssl else "no",
            "yes" if session.authenticated else "no", len(envelope.rcpt_tos)))
        return "250 2.0.0 OK queued as %d" % n


def make_authenticator(state, user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        state.log("auth %s %s" % (mechanism, "ok" if ok else "failed"))
        return AuthResult(success=ok, handled=False)
    return authenticator


def main():
    ap = argparse.ArgumentParser(description="loopback SMTP relay for tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dir", required=True, help="where messages and session.log go")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--implicit", action="store_true", help="TLS from the start (smtps)")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--fault", choices=["rcpt451", "rcpt550", "data451", "data550"])
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    state = State(args.dir)
    handler = Handler(state, args.fault)
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    kwargs = {"hostname": "relay.test", "loop": loop, "timeout": 30}
    if tls is not None and not args.implicit:
        kwargs.update(tls_context=tls, require_starttls=True)
    if args.user is not None:
        kwargs.update(authenticator=make_authenticator(state, args.user, args.password or ""),
                      auth_required=True, auth_require_tls=tls is not None)

    def factory():
        state.connections += 1
        state.log("connection %d" % state.connections)
        smtp = SMTP(handler, **kwargs)
        smtp.conn_no = state.connections
        return smtp

    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=tls if args.implicit else None))
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)

    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.call_later(args.lifetime, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
