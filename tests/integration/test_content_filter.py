"""content_filter and FILTER actions in a running instance.

An aiosmtpd peer on loopback plays the external filter. In the
after-queue setup of Postfix's FILTER_README it hands each message back
to a second smtpd(8) that runs with "-o content_filter=", which must
deliver it instead of filtering it again. Also: mail from sendmail(1)
(pickup) is filtered, a FILTER action replaces content_filter, REDIRECT
beats both, an empty next hop means the recipient domain or
default_filter_nexthop, and a deferred message keeps its filter when it
is tried again.
"""
import asyncio
import re
import smtplib
import subprocess

import pytest

from conftest import free_port
from instance import instance_factory, read_queue_file, wait_for  # noqa: F401

BASE = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_peername_lookup": "no",
    "smtpd_error_sleep_time": "0",
    "mydestination": "",
    "relay_domains": "",
    "default_transport": "discard:delivered",
    "minimal_backoff_time": "300s",
}


class Filter:
    """An SMTP peer that takes messages and, when reinject_port is set, sends them back."""

    def __init__(self, reinject_port=None, replies=()):
        from aiosmtpd.controller import Controller

        self.envelopes = []
        self.reinject_port = reinject_port
        self.replies = list(replies)        # replies to give first, then 250
        self.port = free_port()
        self.ctl = Controller(self, hostname="127.0.0.1", port=self.port)
        self.ctl.start()

    def _reinject(self, env):
        with smtplib.SMTP("127.0.0.1", self.reinject_port, local_hostname="filter.example",
                          timeout=30) as c:
            c.sendmail(env.mail_from, env.rcpt_tos, env.original_content)

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append(envelope)
        if self.reinject_port:
            await asyncio.get_running_loop().run_in_executor(None, self._reinject, envelope)
        return "250 2.0.0 Ok: filtered"

    def wait(self, n=1, timeout=30):
        wait_for(lambda: len(self.envelopes) >= n, timeout, what=f"{n} message(s) at the filter")
        return self.envelopes

    def stop(self):
        self.ctl.stop()


@pytest.fixture
def filters():
    made = []

    def make(**kw):
        f = Filter(**kw)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


def submit(inst, subject="hello", rcpts=("bob@remote.example",), headers=(), port=None):
    with smtplib.SMTP("127.0.0.1", port or inst.smtp_port, local_hostname="client.example.com",
                      timeout=30) as c:
        extra = "".join(h + "\r\n" for h in headers)
        c.sendmail("alice@example.org", list(rcpts),
                   f"From: <alice@example.org>\r\nSubject: {subject}\r\n{extra}\r\nbody\r\n")


def sent_lines(inst):
    return re.findall(r"postern/(\w+)\[\d+\]: ([0-9A-F]+): to=<([^>]*)>, .*relay=([^,]+), .*"
                      r"status=(\w+) \((.*)\)$", inst.logtext(), re.M)


def test_after_queue_filter_and_reinjection(instance_factory, filters):  # noqa: F811
    reinject = free_port()
    flt = filters(reinject_port=reinject)
    inst = instance_factory(
        main=dict(BASE, content_filter=f"smtp:[127.0.0.1]:{flt.port}"),
        master_lines=[f"127.0.0.1:{reinject} inet n - n - - smtpd -o content_filter= "
                      "-o mynetworks=127.0.0.0/8"])
    inst.start()
    submit(inst, rcpts=("bob@remote.example", "carol@other.example"))
    env, = flt.wait()
    assert sorted(env.rcpt_tos) == ["bob@remote.example", "carol@other.example"]
    # back from the filter, the message is delivered, not filtered again
    wait_for(lambda: len([x for x in sent_lines(inst) if x[0] == "discard"]) == 2, 30,
             what=f"two deliveries after the filter\n{inst.logtext()}")
    assert len(flt.envelopes) == 1
    smtp = [x for x in sent_lines(inst) if x[0] == "smtp"]
    assert len(smtp) == 2 and all(x[3] == f"127.0.0.1[127.0.0.1]:{flt.port}" for x in smtp)
    assert {x[2] for x in sent_lines(inst) if x[0] == "discard"} == {"bob@remote.example",
                                                                     "carol@other.example"}


def test_sendmail_mail_is_filtered(instance_factory, filters):  # noqa: F811
    flt = filters()
    inst = instance_factory(main=dict(BASE, content_filter=f"smtp:[127.0.0.1]:{flt.port}"))
    inst.start()
    r = subprocess.run([str(inst.build / "sbin" / "sendmail"), "-C", str(inst.etc),
                        "-f", "root@example.org", "dave@remote.example"],
                       input=b"Subject: local\n\nhi\n", capture_output=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    env, = flt.wait()
    assert env.rcpt_tos == ["dave@remote.example"]
    assert b"Subject: local" in env.original_content


def test_filter_action_replaces_content_filter(instance_factory, filters):  # noqa: F811
    flt = filters()
    inst = instance_factory(main=dict(BASE, content_filter=f"smtp:[127.0.0.1]:{flt.port}"))
    (inst.etc / "hc").write_text("/^X-Route: local/ FILTER discard:by header\n"
                                 "/^X-Route: trap/ REDIRECT trap@trap.example\n")
    inst.write_main(header_checks=f"pcre:{inst.etc}/hc")
    inst.start()
    submit(inst, "one", headers=["X-Route: local"])
    inst.wait_log(r"to=<bob@remote\.example>, relay=none, .*status=sent \(by header\)")
    # REDIRECT beats content_filter: the redirection is resolved as usual
    submit(inst, "two", headers=["X-Route: trap"])
    inst.wait_log(r"to=<trap@trap\.example>, orig_to=<bob@remote\.example>, relay=none, .*"
                  r"status=sent \(delivered\)")
    assert flt.envelopes == []


@pytest.mark.parametrize("default, reason", [("", "remote.example"), ("fixed.example",
                                                                      "fixed.example")])
def test_empty_filter_nexthop(instance_factory, default, reason):  # noqa: F811
    inst = instance_factory(main=dict(BASE, content_filter="discard:",
                                      default_filter_nexthop=default))
    inst.start()
    submit(inst)
    inst.wait_log(rf"to=<bob@remote\.example>, relay=none, .*status=sent \({re.escape(reason)}\)")


def test_deferred_message_keeps_its_filter(instance_factory, filters):  # noqa: F811
    flt = filters(replies=["451 4.3.0 filter busy"])
    inst = instance_factory(main=dict(BASE, content_filter=f"smtp:[127.0.0.1]:{flt.port}"))
    inst.start()
    submit(inst)
    inst.wait_log(r"status=deferred \(.*filter busy")
    qid = re.search(r"([0-9A-F]+): to=<bob@remote\.example>.*status=deferred",
                    inst.logtext()).group(1)
    path = wait_for(lambda: [p for p in inst.queue_files(("deferred",)) if p.name == qid], 10,
                    what="the deferred file")[0]
    qf = read_queue_file(path)
    assert qf.attrs["content_filter"] == f"smtp:[127.0.0.1]:{flt.port}"
    r = subprocess.run([str(inst.build / "sbin" / "postqueue"), "-f"], capture_output=True,
                       timeout=60, env={"PATH": "/usr/bin:/bin", "MAIL_CONFIG": str(inst.etc)})
    assert r.returncode == 0, r.stderr
    env, = flt.wait()
    assert env.rcpt_tos == ["bob@remote.example"]
    inst.wait_log(rf"{qid}: removed", 30)


def test_access_filter_and_hold_from_smtpd(instance_factory, filters):  # noqa: F811
    """smtpd's access(5) FILTER replaces content_filter; HOLD puts the file in hold/."""
    flt = filters()
    inst = instance_factory(main=dict(
        BASE, content_filter=f"smtp:[127.0.0.1]:{flt.port}",
        smtpd_recipient_restrictions="check_recipient_access inline:{ "
                                     "{bob@remote.example=FILTER discard:by-access}, "
                                     "{held@remote.example=HOLD} }, permit_mynetworks, reject"))
    inst.start()
    submit(inst, "one")
    inst.wait_log(r"to=<bob@remote\.example>, relay=none, .*status=sent \(by-access\)")
    submit(inst, "two", rcpts=("held@remote.example",))
    held = wait_for(lambda: inst.queue_files(("hold",)), 10, what="a held file")
    assert read_queue_file(held[0]).rcpt_addrs == ["held@remote.example"]
    assert flt.envelopes == []
