"""header_checks(5): header, MIME header, nested header and body checks.

Most tests run a private instance (instance.py) and talk SMTP to it:
the reply to the end of DATA, the queue (nothing left for REJECT and
DISCARD, hold/ for HOLD), cleanup's log lines and, for the actions that
change the message or where it goes, what an aiosmtpd peer on loopback
receives (relayhost or a FILTER next hop). A few tests speak the cleanup
protocol directly (test_cleanup.Instance) to check the records that
qmgr reads and the requests a client (smtpd) may send. The examples of
man/man5/header_checks.5 are run as they are written.
"""
import re
import shlex
import stat
import subprocess
import time

import pytest

from conftest import ROOT, free_port, run
from instance import instance_factory, read_queue_file, wait_for  # noqa: F401
from test_table_examples import blocks

BASE = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_peername_lookup": "no",
    "smtpd_error_sleep_time": "0",
    "mydestination": "",
    "relay_domains": "",
    "default_transport": "discard:delivered",
}
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


# ---------------------------------------------------------------- helpers

class Sink:
    """An aiosmtpd peer that keeps every envelope it is given."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.envelopes = []
        self.port = free_port()
        self.ctl = Controller(self, hostname="127.0.0.1", port=self.port)
        self.ctl.start()

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: taken by the sink"

    def wait(self, n=1, timeout=30):
        wait_for(lambda: len(self.envelopes) >= n, timeout, what=f"{n} message(s) at the sink")
        return self.envelopes

    def stop(self):
        self.ctl.stop()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture
def checks(instance_factory):  # noqa: F811
    """make(tables={"name": text}, **main): an instance with the tables in its etc/."""

    def make(tables=None, **main):
        inst = instance_factory(main=dict(BASE))
        for name, text in (tables or {}).items():
            (inst.etc / name).write_text(text)
        settings = {k: v.replace("@ETC@", str(inst.etc)) for k, v in main.items()}
        inst.write_main(**settings)
        inst.start()
        return inst
    return make


def message(subject="hello", headers=(), body=("body line",), sender="alice@example.org"):
    lines = [f"From: <{sender}>", f"Subject: {subject}", *headers, "", *body]
    return "\r\n".join(lines) + "\r\n"


def send(inst, text, sender="alice@example.org", rcpts=("bob@remote.example",)):
    """One SMTP transaction; returns (code, text of the last reply line, queue ID or None)."""
    c = inst.smtp_connect()
    c.expect(220)
    c.cmd("EHLO client.example.com")
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    if isinstance(text, str):
        text = text.encode()
    data = b"".join(b"." + line if line.startswith(b".") else line
                    for line in text.splitlines(keepends=True))
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    c.send(data + b".\r\n")
    code, texts = c.reply()
    c.cmd("QUIT")
    c.close()
    m = re.search(r"queued as ([0-9A-F]+)", texts[-1])
    return code, texts[-1], m.group(1) if m else None


def cleanup_log(inst, action):
    return re.findall(rf"postern/cleanup\[\d+\]: ([0-9A-F]+): {action}: (.*)$", inst.logtext(),
                      re.M)


def nothing_queued(inst):
    return not inst.queue_files(QUEUES)


def delivered(inst, qid, timeout=20):
    inst.wait_log(rf"{qid}: removed", timeout)


# ---------------------------------------------------------------- REJECT

@pytest.mark.parametrize("kind", ["pcre", "regexp"])
def test_header_reject(checks, kind):
    inst = checks({"hc": "/^Subject:.*viagra/ REJECT Spam is not welcome here\n"},
                  header_checks=f"{kind}:@ETC@/hc")
    code, text, _ = send(inst, message("buy ViAgRa now"))
    assert (code, text) == (550, "5.7.1 Spam is not welcome here")
    assert nothing_queued(inst)
    (qid, line), = cleanup_log(inst, "reject")
    assert line == ("header Subject: buy ViAgRa now from unknown[127.0.0.1]; "
                    "from=<alice@example.org> to=<bob@remote.example> proto=ESMTP "
                    "helo=<client.example.com>: 5.7.1 Spam is not welcome here")
    # the queue file that cleanup had made is gone, and other mail passes
    assert not (inst.queue / "incoming" / qid).exists()
    code, _, qid2 = send(inst, message("a fine subject"))
    assert code == 250
    delivered(inst, qid2)


def test_reject_texts(checks):
    inst = checks({"hc": "/^Subject: plain/ REJECT\n"
                         "/^Subject: own code/ REJECT 5.7.9 go away\n"
                         "/^Subject: later/ reject 4.7.1 try again later\n"},
                  header_checks="pcre:@ETC@/hc")
    assert send(inst, message("plain"))[:2] == (550, "5.7.1 Message content rejected")
    assert send(inst, message("own code"))[:2] == (550, "5.7.9 go away")
    assert send(inst, message("later"))[:2] == (451, "4.7.1 try again later")
    assert nothing_queued(inst)


def test_folded_header_is_one_string(checks):
    # a folded header keeps its newlines: with pcre "." stops at them, [ \t] follows them
    inst = checks({"hc": "/^Subject: first\\n[ \\t]+second$/ REJECT folded\n"
                         "/^Subject:.*second/ REJECT dot crossed a newline\n"},
                  header_checks="pcre:@ETC@/hc")
    code, text, _ = send(inst, "Subject: first\r\n\tsecond\r\n\r\nbody\r\n")
    assert (code, text) == (550, "5.7.1 folded")
    assert cleanup_log(inst, "reject")[0][1].startswith("header Subject: first  second from ")


def test_body_reject(checks):
    inst = checks({"bc": "/^Click here to claim/ REJECT no prizes\n"},
                  body_checks="regexp:@ETC@/bc")
    code, text, _ = send(inst, message(body=["Hello,", "click here to claim your prize", "bye"]))
    assert (code, text) == (550, "5.7.1 no prizes")
    assert nothing_queued(inst)
    (_, line), = cleanup_log(inst, "reject")
    assert line.startswith("body click here to claim your prize from unknown[127.0.0.1]; ")
    # headers are not body lines
    code, _, _ = send(inst, message("Click here to claim"))
    assert code == 250


def test_body_checks_size_limit(checks):
    inst = checks({"bc": "/^forbidden/ REJECT\n"}, body_checks="pcre:@ETC@/bc",
                  body_checks_size_limit="100")
    early = ["forbidden early"]
    late = ["x" * 60, "y" * 60, "forbidden late"]
    assert send(inst, message(body=early))[0] == 550
    code, _, qid = send(inst, message(body=late))
    assert code == 250
    delivered(inst, qid)


def test_mime_header_checks_attachment_name(checks):
    table = ('/^Content-(Type|Disposition):.*name[ \\t]*=[ \\t]*"?[^"]*\\.(exe|bat)"?[ \\t]*$/s'
             ' REJECT Attachments of type .$2 are not accepted\n')
    inst = checks({"mc": table, "hc": "/^Subject: never/ REJECT\n"},
                  header_checks="pcre:@ETC@/hc", mime_header_checks="pcre:@ETC@/mc")
    text = ("From: <alice@example.org>\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="=_b1"\r\n\r\n'
            "preamble\r\n--=_b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
            "--=_b1\r\nContent-Type: application/octet-stream;\r\n\tname=\"invoice.EXE\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--=_b1--\r\n")
    code, reply, _ = send(inst, text)
    assert (code, reply) == (550, "5.7.1 Attachments of type .EXE are not accepted")
    (_, line), = cleanup_log(inst, "reject")
    assert line.startswith('header Content-Type: application/octet-stream;  name="invoice.EXE" '
                           "from unknown[127.0.0.1];")
    # the same name in the body text, or as a plain header, is not a MIME header
    code, _, qid = send(inst, message("x", body=['Content-Type: a/b; name="x.exe"']))
    assert code == 250
    delivered(inst, qid)


def test_header_checks_also_cover_mime_headers_by_default(checks):
    # mime_header_checks defaults to $header_checks
    inst = checks({"hc": "/^Content-Type: text\\/html/ REJECT no html\n"},
                  header_checks="pcre:@ETC@/hc")
    text = ("Subject: s\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/html\r\n\r\n"
            "<p>hi</p>\r\n--b--\r\n")
    assert send(inst, text)[:2] == (550, "5.7.1 no html")


def test_nested_header_checks(checks):
    attached = ("From: <alice@example.org>\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
                "--outer\r\nContent-Type: text/plain\r\n\r\nforwarded:\r\n"
                "--outer\r\nContent-Type: message/rfc822\r\n\r\n"
                "From: mallory@example.net\r\nSubject: inner secret\r\n\r\ninner body\r\n"
                "--outer--\r\n")
    inst = checks({"nc": "/^Subject: inner/ REJECT nested message refused\n"},
                  header_checks="", nested_header_checks="pcre:@ETC@/nc")
    assert send(inst, attached)[:2] == (550, "5.7.1 nested message refused")
    # the same header at the top level is not a nested one
    code, _, qid = send(inst, message("inner secret"))
    assert code == 250
    delivered(inst, qid)


def test_nested_headers_need_nested_checks(checks):
    attached = ("Subject: fwd\r\nContent-Type: message/rfc822\r\n\r\n"
                "Subject: inner secret\r\n\r\ninner body\r\n")
    inst = checks({"hc": "/^Subject: inner/ REJECT\n"},
                  header_checks="pcre:@ETC@/hc", nested_header_checks="")
    code, _, qid = send(inst, attached)
    assert code == 250
    delivered(inst, qid)


def test_disable_mime_input_processing(checks):
    text = ("Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: application/x-evil\r\n\r\nx\r\n--b--\r\n")
    tables = {"hc": "/^Content-Type: multipart/ WARN top-level type\n",
              "bc": "/^Content-Type: application\\/x-evil/ REJECT evil part\n"}
    inst = checks(tables, header_checks="pcre:@ETC@/hc", mime_header_checks="",
                  body_checks="pcre:@ETC@/bc")
    # MIME processing: the part header is not a body line, and the top-level
    # Content-Type: goes to (empty) mime_header_checks
    code, _, qid = send(inst, text)
    assert code == 250
    assert not cleanup_log(inst, "warning")
    inst.reconfigure(disable_mime_input_processing="yes")
    time.sleep(1)
    code, reply, _ = send(inst, text)
    assert (code, reply) == (550, "5.7.1 evil part")
    (_, line), = cleanup_log(inst, "warning")
    assert line.endswith(": top-level type")


def test_mime_nesting_limit(checks):
    inst = checks({"bc": "/^never matches$/ REJECT\n"}, body_checks="pcre:@ETC@/bc",
                  mime_nesting_limit="3")
    parts = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n"
                    for i in range(1, 6))
    text = "Subject: deep\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" + parts + "x\r\n"
    assert send(inst, text)[:2] == (550, "5.6.0 MIME nesting exceeds safety limit")
    assert nothing_queued(inst)
    (_, line), = cleanup_log(inst, "reject")
    assert line.startswith("mime-error MIME nesting exceeds safety limit from unknown[127.0.0.1];")


# ---------------------------------------------------------------- table errors

@pytest.mark.parametrize("spec, text", [
    ("pcre:@ETC@/missing", None),
    ("pcre:@ETC@/broken", "/^Subject: ok/ DUNNO\n/^Subject: (unclosed/ REJECT\n"),
    ("regexp:@ETC@/broken", "/^Subject: ok/ DUNNO\nnot a pattern line\n"),
])
def test_lookup_error_defers(checks, spec, text):
    inst = checks({"broken": text} if text else {}, header_checks=spec)
    code, reply, _ = send(inst, message("anything"))
    assert code == 451 and reply.startswith("4.3.0 "), reply
    assert nothing_queued(inst)
    inst.wait_log(r"header_checks map lookup problem -- message not accepted, try again later")


def test_body_lookup_error_defers(checks):
    inst = checks({}, body_checks="pcre:@ETC@/missing")
    assert send(inst, message())[0] == 451
    assert nothing_queued(inst)


# ---------------------------------------------------------------- HOLD, DISCARD

def postqueue_p(inst):
    env = {"PATH": "/usr/bin:/bin", "MAIL_CONFIG": str(inst.etc), "TZ": "UTC"}
    return subprocess.run([str(inst.build / "sbin" / "postqueue"), "-p"], capture_output=True,
                          text=True, timeout=60, env=env)


def test_header_hold(checks):
    inst = checks({"hc": "/^Subject:.*\\[review\\]/ HOLD held for review\n"},
                  header_checks="pcre:@ETC@/hc")
    code, _, qid = send(inst, message("price list [review]"))
    assert code == 250 and qid
    path = inst.queue / "hold" / qid
    assert path.exists()
    assert not inst.queue_files(("incoming", "active", "deferred"))
    qf = read_queue_file(path)
    assert qf.complete and qf.mode == 0o700
    assert qf.rcpt_addrs == ["bob@remote.example"]
    assert b"Subject: price list [review]" in qf.lines
    (lqid, line), = cleanup_log(inst, "hold")
    assert lqid == qid
    assert re.fullmatch(r"header Subject: price list \[review\] from unknown\[127\.0\.0\.1\]; "
                        r"from=<alice@example\.org> to=<bob@remote\.example> proto=ESMTP "
                        r"helo=<client\.example\.com>: held for review", line)
    # qmgr leaves it alone; mailq shows it with '!'
    time.sleep(1)
    assert f"{qid}: removed" not in inst.logtext()
    r = postqueue_p(inst)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^{qid}!\s", r.stdout, re.M), r.stdout
    # released, it is delivered
    env = {"PATH": "/usr/bin:/bin", "MAIL_CONFIG": str(inst.etc)}
    r = subprocess.run([str(inst.build / "sbin" / "postsuper"), "-H", qid], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    subprocess.run([str(inst.build / "sbin" / "postqueue"), "-f"], env=env, timeout=60,
                   capture_output=True)
    delivered(inst, qid, 30)


def test_hold_does_not_stop_later_reject(checks):
    inst = checks({"hc": "/^Subject: hold/ HOLD\n/^X-Bad:/ REJECT\n"},
                  header_checks="pcre:@ETC@/hc")
    assert send(inst, message("hold me", headers=["X-Bad: 1"]))[0] == 550
    assert nothing_queued(inst)


def test_header_discard(checks):
    inst = checks({"hc": "/^X-Mailer: Bulk Blaster/ DISCARD bulk mail\n/^Subject:/ REJECT\n"},
                  header_checks="pcre:@ETC@/hc")
    # DISCARD ends the inspection: the Subject: after it is not rejected
    text = "X-Mailer: Bulk Blaster 3\r\nSubject: s\r\n\r\nbody\r\n"
    code, reply, qid = send(inst, text)
    assert code == 250 and qid, reply
    assert nothing_queued(inst)
    (lqid, line), = cleanup_log(inst, "discard")
    assert lqid == qid
    assert line.startswith("header X-Mailer: Bulk Blaster 3 from unknown[127.0.0.1]; ")
    assert line.endswith(": bulk mail")
    time.sleep(1)
    assert f"{qid}: to=" not in inst.logtext()


# ---------------------------------------------------------------- changes to the message

def relay_to(sink_):
    return {"default_transport": "smtp", "relayhost": f"[127.0.0.1]:{sink_.port}"}


def test_header_prepend(checks, sink):
    inst = checks({"hc": "/^Subject:/ PREPEND X-Checked: yes\n",
                   "bc": "/^second/ PREPEND inserted body line\n"},
                  header_checks="pcre:@ETC@/hc", body_checks="pcre:@ETC@/bc", **relay_to(sink))
    code, _, qid = send(inst, message("hello", body=["first", "second"]))
    assert code == 250
    env, = sink.wait()
    content = env.original_content
    assert b"\r\nX-Checked: yes\r\nSubject: hello\r\n" in content
    assert b"\r\nfirst\r\ninserted body line\r\nsecond\r\n" in content
    (_, line), = cleanup_log(inst, "prepend")[:1]
    assert line.endswith(": X-Checked: yes")


def test_prepend_in_queue_file(checks):
    # the held copy shows the change as it is queued
    # (the first pattern that matches a header decides: HOLD comes from another header)
    inst = checks({"hc": "/^Subject:/ PREPEND X-Checked: yes\n/^X-Hold:/ HOLD\n"},
                  header_checks="pcre:@ETC@/hc")
    code, _, qid = send(inst, message("keep me", headers=["X-Hold: 1"]))
    assert code == 250
    qf = read_queue_file(inst.queue / "hold" / qid)
    i = qf.lines.index(b"X-Checked: yes")
    assert qf.lines[i + 1] == b"Subject: keep me"


def test_replace_and_ignore(checks, sink):
    inst = checks({"hc": "/^Subject: (.*)/ REPLACE Subject: [external] $1\n"
                         "/^X-Internal-Secret:/ IGNORE\n"
                         "/^X-Bad-Replace:/ REPLACE not a header\n",
                   "bc": "/^password: / REPLACE password: (removed)\n/^drop me/ IGNORE\n"},
                  header_checks="pcre:@ETC@/hc", body_checks="pcre:@ETC@/bc", **relay_to(sink))
    text = ("From: <alice@example.org>\r\nSubject: hello\r\nX-Internal-Secret: 42\r\n"
            "\tcontinued\r\nX-Bad-Replace: 1\r\n\r\npassword: hunter2\r\ndrop me\r\nkeep me\r\n")
    assert send(inst, text)[0] == 250
    env, = sink.wait()
    content = env.original_content
    assert b"\r\nSubject: [external] hello\r\n" in content
    assert b"Secret" not in content and b"continued" not in content
    assert b"X-Bad-Replace: 1\r\n" in content            # bad text: the action is ignored
    assert b"\r\n\r\npassword: (removed)\r\nkeep me\r\n" in content
    inst.wait_log(r"warning: [0-9A-F]+: bad REPLACE header text \"not a header\"")


def test_warn_and_info(checks):
    inst = checks({"hc": "/^X-Warn:/ WARN looks odd\n/^X-Info:/ INFO\n/^X-Dunno:/ DUNNO\n"
                         "/^X-Unknown:/ FROBNICATE\n"},
                  header_checks="pcre:@ETC@/hc")
    code, _, qid = send(inst, message(headers=["X-Warn: 1", "X-Info: 2", "X-Dunno: 3",
                                               "X-Unknown: 4"]))
    assert code == 250
    delivered(inst, qid)
    (_, warn), = cleanup_log(inst, "warning")
    assert warn.startswith("header X-Warn: 1 from unknown[127.0.0.1]; ")
    assert warn.endswith(": looks odd")
    (_, info), = cleanup_log(inst, "info")
    assert info.startswith("header X-Info: 2 from ") and info.endswith("helo=<client.example.com>")
    inst.wait_log(r"unknown command in header_checks map: \"FROBNICATE\"")


def test_redirect(checks, sink):
    inst = checks({"hc": "/^X-Spam-Flag: YES/ REDIRECT spamtrap@trap.example\n"},
                  header_checks="pcre:@ETC@/hc", **relay_to(sink))
    code, _, qid = send(inst, message(headers=["X-Spam-Flag: YES"]),
                        rcpts=("bob@remote.example", "dave@remote.example"))
    assert code == 250
    env, = sink.wait()
    assert env.rcpt_tos == ["spamtrap@trap.example"]
    delivered(inst, qid, 30)
    assert len(sink.envelopes) == 1
    inst.wait_log(rf"{qid}: to=<spamtrap@trap\.example>, orig_to=<bob@remote\.example>, "
                  r".*status=sent")
    (_, line), = cleanup_log(inst, "redirect")
    assert line.endswith(": spamtrap@trap.example")
    assert "to=<dave@remote.example>" in line       # the last recipient


@pytest.mark.parametrize("where", ["header", "body"])
def test_filter_action(checks, sink, where):
    table = f"/^X-Scan: yes/ FILTER smtp:[127.0.0.1]:{sink.port}\n"
    key = "header_checks" if where == "header" else "body_checks"
    inst = checks({"t": table}, **{key: "pcre:@ETC@/t"})
    text = message(headers=["X-Scan: yes"] if where == "header" else [],
                   body=["X-Scan: yes"] if where == "body" else ["b"])
    code, _, qid = send(inst, text, rcpts=("bob@remote.example", "carol@other.example"))
    assert code == 250
    env, = sink.wait()
    assert sorted(env.rcpt_tos) == ["bob@remote.example", "carol@other.example"]
    delivered(inst, qid, 30)
    (_, line), = cleanup_log(inst, "filter")
    assert line.endswith(f": smtp:[127.0.0.1]:{sink.port}")
    # without the header the default route (discard) applies
    code, _, qid2 = send(inst, message())
    delivered(inst, qid2)
    assert len(sink.envelopes) == 1


def test_filter_to_discard_transport(checks):
    inst = checks({"hc": "/^Subject: filter me/ FILTER discard:filtered away\n"
                         "/^Subject: bad filter/ FILTER nocolon\n"},
                  header_checks="pcre:@ETC@/hc", default_transport="error:5.1.1 should not be used")
    code, _, qid = send(inst, message("filter me"))
    assert code == 250
    inst.wait_log(rf"{qid}: to=<bob@remote\.example>, relay=none, .*status=sent \(filtered away\)")
    code, _, qid = send(inst, message("bad filter"))
    assert code == 250
    inst.wait_log(r"bad FILTER action \"nocolon\" in header_checks map")
    inst.wait_log(rf"{qid}: to=<bob@remote\.example>.*status=bounced \(should not be used\)")


# ---------------------------------------------------------------- the cleanup protocol

def cleanup_env(tmp_path, build, extra=""):
    from test_cleanup import Instance as CleanupEnv
    env = CleanupEnv(tmp_path, build, extra)
    (env.queue / "hold").mkdir(exist_ok=True)
    return env


def test_queue_file_records(tmp_path, postern_build):
    from test_cleanup import ATTR, FLAG_FILTER, FLAG_MAP_OK, XTRA, MESG, content, envelope
    (tmp_path / "hc").write_text("/^Subject: scan/ FILTER scanner:[127.0.0.1]:10025\n"
                                 "/^X-Redirect: yes/ REDIRECT r@example.net\n")
    env = cleanup_env(tmp_path, postern_build, f"header_checks = pcre:{tmp_path}/hc\n")
    lines = ["From: a@example.org", "Subject: scan", "", "body"]
    qid, reply, recs = env.submit(envelope() + content(lines), flags=FLAG_FILTER | FLAG_MAP_OK)
    assert reply["status"] == "0"
    raw = (env.queue / "incoming" / qid).read_bytes()
    attrs = [d.decode() for t, d in recs if t == ATTR]
    ptr = [a for a in attrs if a.startswith("xtra_offset=")]
    assert len(ptr) == 1 and re.fullmatch(r"xtra_offset=\d{15}", ptr[0])
    types = [t for t, _ in recs]
    # the pointer sits before MESG and names the XTRA record
    assert types.index(ATTR) < types.index(MESG)
    off = int(ptr[0].split("=")[1])
    assert raw[off:off + 2] == XTRA + b"\0"
    after = recs[types.index(XTRA):]
    assert (ATTR, b"content_filter=scanner:[127.0.0.1]:10025") in after
    # REDIRECT wins over FILTER: only the redirection is written
    lines.insert(2, "X-Redirect: yes")
    qid, reply, recs = env.submit(envelope() + content(lines), flags=FLAG_FILTER | FLAG_MAP_OK)
    after = recs[[t for t, _ in recs].index(XTRA):]
    assert (ATTR, b"redirect=r@example.net") in after
    assert not [d for t, d in after if t == ATTR and d.startswith(b"content_filter=")]
    # no inspection without FLAG_FILTER (bounce notices)
    del lines[2]
    qid, reply, recs = env.submit(envelope() + content(lines), flags=FLAG_MAP_OK)
    assert not [d for t, d in recs if t == ATTR and d.startswith(b"content_filter=")]


def test_client_requests(tmp_path, postern_build):
    """What smtpd sends for access(5) HOLD, DISCARD, REDIRECT and FILTER."""
    from test_cleanup import ATTR, XTRA, FLAG_FILTER, FLAG_MAP_OK, content, envelope
    env = cleanup_env(tmp_path, postern_build)
    base = {"client_address": "192.0.2.10", "origin": "smtpd"}
    lines = ["Subject: s", "", "b"]

    def submit(**attrs):
        return env.submit(envelope(attrs=dict(base, **attrs)) + content(lines),
                          flags=FLAG_FILTER | FLAG_MAP_OK)

    qid, reply, recs = submit(action_hold="")
    assert reply["status"] == "0"
    assert (env.queue / "hold" / qid).exists() and recs is None
    assert stat.S_IMODE((env.queue / "hold" / qid).stat().st_mode) == 0o700

    before = env.all_queue_files()
    qid, reply, recs = submit(action_discard="client says so")
    assert reply == {"status": "0", "reason": ""}
    assert env.all_queue_files() == before

    qid, reply, recs = submit(action_redirect="x@example.net", action_filter="smtp:[::1]:25")
    after = recs[[t for t, _ in recs].index(XTRA):]
    assert (ATTR, b"redirect=x@example.net") in after
    # requests and cleanup's own names are not copied from the client
    assert not [d for t, d in recs if t == ATTR and d.startswith(b"action_")]

    qid, reply, recs = submit(action_filter="scan:10.0.0.1", content_filter="forged:x",
                              redirect="forged@x", xtra_offset="000000000000001")
    attrs = [d for t, d in recs if t == ATTR]
    assert b"content_filter=scan:10.0.0.1" in attrs
    assert b"content_filter=forged:x" not in attrs and b"redirect=forged@x" not in attrs
    assert b"xtra_offset=000000000000001" not in attrs

    # malformed requests are ignored with a warning
    qid, reply, recs = submit(action_filter="../../x:y", action_redirect="no-at-sign",
                              action_frobnicate="1")
    assert reply["status"] == "0"
    assert not [d for t, d in recs if t == ATTR and (d.startswith(b"content_filter=")
                                                       or d.startswith(b"redirect="))]
    log = env.logtext()
    assert "ignoring malformed action_filter request" in log
    assert "ignoring malformed action_redirect request" in log
    assert "ignoring unknown request action_frobnicate" in log


def test_content_action_logs_for_local_mail(tmp_path, postern_build):
    from test_cleanup import FLAG_FILTER, FLAG_LOCAL, FLAG_MAP_OK, content, envelope
    (tmp_path / "hc").write_text("/^Subject: no/ REJECT\n")
    env = cleanup_env(tmp_path, postern_build, f"header_checks = pcre:{tmp_path}/hc\n")
    qid, reply, recs = env.submit(envelope(attrs={"origin": "pickup"}, sender="root@example.com")
                                  + content(["Subject: no", "", "b"]),
                                  flags=FLAG_FILTER | FLAG_MAP_OK | FLAG_LOCAL)
    assert reply["status"] == "8" and reply["reason"] == "5.7.1 Message content rejected"
    assert re.search(rf"{qid}: reject: header Subject: no from local; from=<root@example\.com> "
                     r"to=<rcpt@example\.net>: 5\.7\.1 Message content rejected", env.logtext())


# ---------------------------------------------------------------- the man page

PAGE = "man5/header_checks.5"


def mail_examples():
    """(expected reply, message lines) for each ".\\" test-mail" block of the page."""
    from test_table_examples import unroff
    lines = (ROOT / "man" / PAGE).read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        m = re.match(r'^\.\\" test-mail (.*)$', line)
        if not m:
            continue
        j = lines.index(".nf", i) + 1
        k = lines.index(".fi", j)
        out.append((m.group(1), [unroff(x) for x in lines[j:k]]))
    return out


def test_man_page_sessions(postern_build, confdir, tmp_path):
    etc = tmp_path / "etc-postern"
    etc.mkdir()
    ran = 0
    for kind, name, body in blocks(PAGE):
        if kind == "file":
            text = "\n".join(body).replace("/etc/postern/", f"{etc}/") + "\n"
            (confdir / name if name == "main.cf" else etc / name).write_text(text)
            continue
        commands = []
        for line in body:
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        for command, expected in commands:
            argv = shlex.split(command.replace("/etc/postern/", f"{etc}/"))
            assert argv[0] == "postmap"
            r = run([postern_build / "sbin" / "postmap", "-c", confdir, *argv[1:]])
            assert r.returncode in (0, 1), r.stderr
            assert r.stdout.splitlines() == expected, command
            ran += 1
    assert ran >= 2


def test_man_page_mail_examples(checks):
    tables = {}
    main = {}
    for kind, name, body in blocks(PAGE):
        if kind != "file":
            continue
        if name == "main.cf":
            for line in body:
                k, _, v = line.partition("=")
                main[k.strip()] = v.strip().replace("/etc/postern/", "@ETC@/")
        else:
            tables[name] = "\n".join(body) + "\n"
    inst = checks(tables, **main)
    examples = mail_examples()
    assert len(examples) >= 4
    for expect, lines in examples:
        code, reply, qid = send(inst, "\r\n".join(lines) + "\r\n")
        want_code, _, rest = expect.partition(" ")
        assert code == int(want_code), (expect, reply)
        if rest == "hold":
            assert (inst.queue / "hold" / qid).exists()
        elif rest:
            assert reply == rest
