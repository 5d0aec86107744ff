"""cleanup(8) run by master(8), fed by smtpd(8): what a full instance shows.

No qmgr runs (services smtp/inet and cleanup/unix only), so accepted mail
stays in incoming/ where the tests read it back. The stand-alone protocol
tests are in test_cleanup.py; smtpd's own failure tests (client gone
mid-DATA, cleanup killed) are in test_smtpd.py.
"""
import re

import pytest

from instance import instance_factory, read_queue_file, wait_for  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]
BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


def start(instance_factory, **main):
    conf = dict(BASE_MAIN)
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def session(inst):
    c = inst.smtp_connect()
    c.expect(220)
    code, texts = c.cmd("EHLO client.example.com")
    assert code == 250, texts
    return c


def send(c, sender, rcpts, content: bytes, want=250):
    code, texts = c.cmd(f"MAIL FROM:<{sender}>")
    assert code == 250, texts
    for r in rcpts:
        code, texts = c.cmd(f"RCPT TO:<{r}>")
        assert code == 250, texts
    code, texts = c.cmd("DATA")
    assert code == 354, texts
    c.send(content + b".\r\n")
    code, texts = c.reply()
    assert code == want, texts
    if want != 250:
        return texts
    m = re.search(r"queued as ([0-9A-F]+)$", texts[-1])
    assert m, texts
    return m.group(1)


def queue_file(inst, qid):
    return read_queue_file(inst.queue / "incoming" / qid)


def cleanup_pids(inst, qids):
    pids = set()
    for qid in qids:
        m = re.search(rf"postern/cleanup\[(\d+)\]: {qid}: message-id=", inst.logtext())
        assert m, qid
        pids.add(m.group(1))
    return pids


def test_one_process_many_messages(instance_factory):
    inst = start(instance_factory, max_use="100")
    c = session(inst)
    qids = [send(c, "a@example.org", ["root@mx.example.com"],
                 f"Subject: {i}\r\nMessage-ID: <{i}@example.org>\r\n\r\nbody {i}\r\n".encode())
            for i in range(6)]
    c.cmd("QUIT")
    assert len(set(qids)) == 6
    # master may start a second process while the first is busy, but
    # each process serves message after message
    pids = [next(iter(cleanup_pids(inst, [qid]))) for qid in qids]
    assert max(pids.count(p) for p in pids) >= 3
    for i, qid in enumerate(qids):
        q = queue_file(inst, qid)
        assert q.complete and q.mode == 0o700
        assert q.attrs["message_id"] == f"<{i}@example.org>"


def test_max_use_replaces_the_process(instance_factory):
    inst = start(instance_factory, max_use="2")
    c = session(inst)
    qids = [send(c, "a@example.org", ["root@mx.example.com"],
                 f"Message-ID: <{i}@x>\r\n\r\nb\r\n".encode()) for i in range(4)]
    c.cmd("QUIT")
    wait_for(lambda: all(f"{q}: message-id" in inst.logtext() for q in qids))
    assert len(cleanup_pids(inst, qids)) == 2


def test_loopback_client_gets_missing_headers(instance_factory):
    inst = start(instance_factory)
    c = session(inst)
    body = b"Subject: no ids\r\n\r\nhello\r\n"
    qid = send(c, "sender@example.org", ["root@mx.example.com"], body)
    q = queue_file(inst, qid)
    received = [line for line in q.lines if line.startswith(b"Received:")]
    assert len(received) == 1
    msgid = next(line for line in q.lines if line.startswith(b"Message-Id:"))
    assert re.fullmatch(rb"Message-Id: <\d{14}\." + qid.encode() + rb"@mx\.example\.com>", msgid)
    assert any(line.startswith(b"Date: ") for line in q.lines)
    assert b"From: sender@example.org" in q.lines
    assert q.lines[-2:] == [b"", b"hello"]
    inst.wait_log(rf"postern/cleanup\[\d+\]: {qid}: message-id=<\d{{14}}\.{qid}@mx\.example\.com>")


def test_remote_client_keeps_its_headers(instance_factory):
    # with an empty local_header_rewrite_clients, loopback counts as remote
    inst = start(instance_factory, local_header_rewrite_clients="")
    c = session(inst)
    body = b"Subject: as sent\r\nTo: bob\r\n\r\nhello\r\n"
    qid = send(c, "sender@example.org", ["root@mx.example.com"], body)
    q = queue_file(inst, qid)
    assert not any(line.startswith((b"Message-Id:", b"Date:", b"From:")) for line in q.lines)
    assert b"To: bob" in q.lines
    inst.wait_log(rf"{qid}: message-id=<>")


def virtual_instance(instance_factory, **main):
    conf = dict(BASE_MAIN)
    conf.update(main)
    inst = instance_factory(main=conf, services=SERVICES)
    table = inst.etc / "virtual"
    table.write_text("team@example.net a@example.net, b@example.net\n"
                     "b@example.net b@example.net, c@example.net\n")
    table.chmod(0o644)
    inst.write_main(virtual_alias_maps=f"texthash:{table}")
    return inst.start()


def test_virtual_alias_and_duplicates_through_smtp(instance_factory):
    inst = virtual_instance(instance_factory)
    c = session(inst)
    qid = send(c, "s@example.org", ["team@example.net", "c@example.net", "c@example.net"],
               b"Subject: x\r\n\r\nb\r\n")
    q = queue_file(inst, qid)
    # c@ reached twice by different original addresses stays twice; the
    # repeated RCPT TO:<c@example.net> goes
    assert [(r["orcp"], r["addr"]) for r in q.recipients] == [
        ("team@example.net", "a@example.net"), ("team@example.net", "b@example.net"),
        ("team@example.net", "c@example.net"), ("c@example.net", "c@example.net")]

    inst = virtual_instance(instance_factory, enable_original_recipient="no")
    c = session(inst)
    qid = send(c, "s@example.org", ["team@example.net", "c@example.net", "c@example.net"],
               b"Subject: x\r\n\r\nb\r\n")
    q = queue_file(inst, qid)
    assert q.rcpt_addrs == ["a@example.net", "b@example.net", "c@example.net"]
    assert "orcp" not in q.recipients[0]


def test_table_error_gives_4xx_and_no_file(instance_factory):
    inst = start(instance_factory, virtual_alias_maps="fail:broken")
    c = session(inst)
    texts = send(c, "s@example.org", ["root@mx.example.com"], b"Subject: x\r\n\r\nb\r\n",
                 want=451)
    assert texts[-1].startswith("4.3.0"), texts
    assert list((inst.queue / "incoming").iterdir()) == []


def test_hop_limit_through_smtp(instance_factory):
    inst = start(instance_factory, hopcount_limit="5")
    c = session(inst)
    hops = b"".join(b"Received: from hop%d\r\n" % i for i in range(5))
    texts = send(c, "s@example.org", ["root@mx.example.com"], hops + b"\r\nb\r\n", want=554)
    assert "5.4.0" in texts[-1] and "too many hops" in texts[-1], texts
    assert list((inst.queue / "incoming").iterdir()) == []
    # four of them plus smtpd's own Received: is five, which is allowed
    qid = send(c, "s@example.org", ["root@mx.example.com"], hops[:hops.index(b"Received: from hop4")]
               + b"\r\nb\r\n")
    assert queue_file(inst, qid).complete


def test_changed_table_restarts_the_process(instance_factory):
    inst = virtual_instance(instance_factory)
    c = session(inst)
    qid = send(c, "s@example.org", ["team@example.net"], b"Subject: 1\r\n\r\nb\r\n")
    assert queue_file(inst, qid).rcpt_addrs[0] == "a@example.net"
    table = inst.etc / "virtual"
    table.write_text("team@example.net new@example.net\n")
    send(c, "s@example.org", ["team@example.net"], b"Subject: 2\r\n\r\nb\r\n")
    inst.wait_log(r"postern/cleanup\[\d+\]: table texthash:\S+/virtual has changed -- restarting")
    # a process learns of the change after its next message at the latest
    for _ in range(4):
        qid = send(c, "s@example.org", ["team@example.net"], b"Subject: 3\r\n\r\nb\r\n")
        if queue_file(inst, qid).rcpt_addrs == ["new@example.net"]:
            break
    assert queue_file(inst, qid).rcpt_addrs == ["new@example.net"]
