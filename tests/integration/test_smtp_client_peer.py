"""Helpers for the smtp(8)/lmtp(8) tests: a scriptable SMTP/LMTP server,
and smtp(8) driven directly as qmgr(8) drives it.

Peer(...) listens on a loopback address and port (a thread per
connection) and speaks SMTP, or LMTP with lmtp=True. Each stage's reply
can be scripted: the greeting, the EHLO/LHLO reply (keywords), and
callables for MAIL, RCPT and the end of data (LMTP: one reply per
accepted recipient). It records what it saw: connections (count), every
command line, and every message (envelope, parameters, content with the
dot-stuffing undone), and whether MAIL/RCPT/DATA arrived pipelined (all
in the buffer before the first reply went out). rset_reply scripts the
reply to RSET (a 421 one hangs up after it).

SmtpAgent wraps test_local_harness.Agent (the stand-in queue manager) for
program "smtp" or "lmtp": it writes a queue file, runs the agent with -S
on one request, and returns the per-recipient results; the queue tree
belongs to the account the agent runs as.

This module has no tests of its own.
"""
import os
import pwd
import socket
import subprocess
import threading
import time

from test_local_harness import IS_ROOT, Agent, attr_encode, attr_read


class Peer:
    def __init__(self, host="127.0.0.1", port=0, lmtp=False, name="peer.example.net",
                 keywords=("PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8", "DSN",
                           "ENHANCEDSTATUSCODES"),
                 greeting=None, ehlo_reply=None, mail=None, rcpt=None, data_reply=None,
                 dot=None, family=socket.AF_INET, unix_path=None, rset_reply=None):
        self.lmtp = lmtp
        self.name = name
        self.keywords = list(keywords)
        self.greeting = greeting or f"220 {name} ESMTP test peer"     # a list: several lines
        self.ehlo_reply = ehlo_reply          # None = 250 + keywords
        self.mail = mail                      # fn(addr, params) -> reply or None
        self.rcpt = rcpt                      # fn(addr, params) -> reply or None
        self.data_reply = data_reply          # reply to DATA, None = 354
        self.dot = dot                        # fn(msg) -> reply (SMTP) / list (LMTP) or None
        self.rset_reply = rset_reply          # reply to RSET, None = 250; 421 hangs up
        self.connections = 0
        self.clients = []                     # client addresses, per connection
        self.messages = []
        self.commands = []
        self.pipelined = []                   # per transaction: True when MAIL..DATA came at once
        self.lock = threading.Lock()
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(str(unix_path))
            os.chmod(str(unix_path), 0o666)
            self.port = None
        else:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, port))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.host = host
        self.stopped = False
        self.threads = []
        self.open_conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ---- server
    def _accept(self):
        while not self.stopped:
            try:
                conn, client = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.clients.append(client[0] if isinstance(client, tuple) else "unix")
                self.open_conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes the accept() of the thread
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.thread.join(5)
        with self.lock:
            for c in self.open_conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass

    def _serve(self, conn):
        conn.settimeout(30)
        if self.port is not None:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()

        def line():
            while b"\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    raise EOFError
                buf.extend(chunk)
            i = buf.index(b"\n")
            out = bytes(buf[:i]).rstrip(b"\r")
            del buf[:i + 1]
            return out

        def say(text):
            lines = text if isinstance(text, list) else [text]
            conn.sendall(b"".join(x.encode("utf-8", "surrogateescape") + b"\r\n" for x in lines))

        try:
            say(self.greeting)
            last = self.greeting[-1] if isinstance(self.greeting, list) else self.greeting
            if not last.startswith("2") or isinstance(self.greeting, list):
                line()                        # wait for QUIT or close
                return
            msg = None
            while True:
                raw = line()
                cmd = raw.decode("utf-8", "surrogateescape")
                with self.lock:
                    self.commands.append(cmd)
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "LHLO", "HELO"):
                    if self.ehlo_reply and (verb != "HELO" or self.ehlo_reply.startswith("421")):
                        say(self.ehlo_reply)
                        if self.ehlo_reply.startswith("421"):
                            return
                        continue
                    if verb == "HELO":
                        say(f"250 {self.name}")
                    else:
                        kws = [self.name] + self.keywords
                        say([f"250-{k}" for k in kws[:-1]] + [f"250 {kws[-1]}"])
                elif verb == "MAIL":
                    rest = cmd[10:]
                    addr, params = self._path(rest)
                    pipelined = b"DATA" in bytes(buf).upper()
                    msg = {"from": addr, "mail_params": params, "rcpts": [], "rcpt_params": [],
                           "accepted": [], "ehlo": None, "data": None}
                    with self.lock:
                        self.pipelined.append(pipelined)
                    r = self.mail(addr, params) if self.mail else None
                    if r and not r.startswith("2"):
                        msg = None
                        say(r)
                    else:
                        say(r or "250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr, params = self._path(cmd[8:])
                    if msg is None:
                        say("503 5.5.1 Error: need MAIL command")
                        continue
                    r = self.rcpt(addr, params) if self.rcpt else None
                    msg["rcpts"].append(addr)
                    msg["rcpt_params"].append(params)
                    if r and not r.startswith("2"):
                        say(r)
                    else:
                        msg["accepted"].append(addr)
                        say(r or "250 2.1.5 Ok")
                elif verb == "DATA":
                    if msg is None or not msg["accepted"]:
                        say("554 5.5.1 Error: no valid recipients")
                        continue
                    if self.data_reply:
                        say(self.data_reply)
                        if not self.data_reply.startswith("3"):
                            msg = None
                            continue
                    else:
                        say("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        body_line = line()
                        if body_line == b".":
                            break
                        if body_line.startswith(b"."):
                            body_line = body_line[1:]
                        lines.append(body_line)
                    msg["data"] = b"".join(x + b"\r\n" for x in lines)
                    r = self.dot(msg) if self.dot else None
                    if self.lmtp:
                        replies = r if isinstance(r, list) else \
                            [r or "250 2.1.5 Delivered"] * len(msg["accepted"])
                        ok = [a for a, rep in zip(msg["accepted"], replies) if rep.startswith("2")]
                        if ok:
                            with self.lock:
                                self.messages.append(dict(msg, delivered=ok))
                        for rep in replies:
                            say(rep)
                        if len(replies) < len(msg["accepted"]):
                            return                    # fewer replies: hang up
                    else:
                        rep = r or f"250 2.0.0 Ok: queued as PEER{len(self.messages) + 1}"
                        if rep.startswith("2"):
                            with self.lock:
                                self.messages.append(dict(msg, delivered=list(msg["accepted"])))
                        if rep != "-":                # "-": hang up instead of replying
                            say(rep)
                        else:
                            return
                    msg = None
                elif verb == "RSET":
                    msg = None
                    say(self.rset_reply or "250 2.0.0 Ok")
                    if self.rset_reply and self.rset_reply.startswith("421"):
                        return
                elif verb == "NOOP":
                    say("250 2.0.0 Ok")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except (EOFError, OSError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _path(rest):
        rest = rest.strip()
        if rest.startswith("<"):
            end = rest.find(">")
            addr, params = rest[1:end], rest[end + 1:].split()
        else:
            parts = rest.split()
            addr, params = (parts[0] if parts else ""), parts[1:]
        return addr, params

    # ---- waiting
    def wait_messages(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"peer got {len(self.messages)} messages, wanted {n}")
            time.sleep(0.02)
        return self.messages


class SmtpAgent(Agent):
    """The stand-in queue manager, for smtp(8) and lmtp(8)."""

    def __init__(self, build, base, program="smtp"):
        super().__init__(build, base, program)
        if IS_ROOT:
            self.main["mail_owner"] = "nobody"
            self.configure()
        self.owner = pwd.getpwnam(self.main.get("mail_owner", "nobody")) if IS_ROOT else None

    def make_queue_file(self, *a, **kw):
        qid, offsets = super().make_queue_file(*a, **kw)
        if self.owner:
            for root, dirs, files in os.walk(self.queue):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), self.owner.pw_uid, self.owner.pw_gid)
            os.chown(self.queue, self.owner.pw_uid, self.owner.pw_gid)
        return qid, offsets

    def request(self, qid=None, extra=None, timeout=120):
        """Send one request for the last queue file: (status, [results], stderr)."""
        info = self.last
        fields = {"flags": 0, "queue_name": "active", "queue_id": info["qid"],
                  "data_offset": info["data_offset"], "data_size": info["size"],
                  "nexthop": "", "encoding": "7bit", "smtputf8": 0,
                  "sender": info["sender"], "dsn_envid": "", "dsn_ret": "",
                  "arrival_time": "%d.%06d" % (int(info["arrival"]),
                                               int((info["arrival"] % 1) * 1e6)),
                  "rcpt_count": len(info["rcpts"]), "queue_delays": "0.1/0.2"}
        for i, r in enumerate(info["rcpts"]):
            addr, orig = (r, "") if isinstance(r, str) else r
            fields.update({f"rcpt.{i}.address": addr, f"rcpt.{i}.orig": orig,
                           f"rcpt.{i}.offset": info["offsets"][i], f"rcpt.{i}.notify": 0,
                           f"rcpt.{i}.orcpt": ""})
        fields.update(extra or {})
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        proc = subprocess.Popen(
            [str(self.build / "libexec" / self.program), "-S", "-c", str(self.etc), "-n",
             self.program, "-t", "unix"],
            stdin=child, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict({"PATH": "/usr/bin:/bin", "TZ": "UTC"},
                     **{k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}))
        child.close()
        buf = bytearray()
        try:
            ready = attr_read(parent, buf)
            assert ready.get("status") == "0", ready
            parent.sendall(attr_encode(list(fields.items())))
            reply = attr_read(parent, buf, timeout=timeout)
        finally:
            parent.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        results = [reply.get(f"rcpt.{i}.result") for i in range(len(info["rcpts"]))]
        return int(reply["status"]), results, err

    def send(self, sender, rcpts, lines, nexthop, extra=None, attrs=None):
        """Deliver one message to nexthop; return the per-recipient results."""
        fields = {"nexthop": nexthop}
        fields.update(extra or {})
        return self.deliver(sender, rcpts, lines, attrs=attrs, extra=fields)
