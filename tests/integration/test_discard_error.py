"""discard(8) and error(8): the trivial delivery agents, under qmgr and alone.

Messages go through qmgr (written into incoming/ by tests/progs/mkqueue);
the agents' log lines, notes and done marks are checked. Hostile requests
are sent straight to the agents' private sockets.
"""
import re
import socket

import pytest

from instance import instance_factory, read_queue_file, wait_for  # noqa: F401
from test_qmgr import attr_encode, attr_read, make, mkqueue, status_lines  # noqa: F401


def test_discard_reason_from_nexthop(make):
    inst = make(default_transport="discard:bench",
                transport_maps="inline:{ {quiet.example=discard:} }")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@loud.example", "b@quiet.example")
    inst.wait_log(rf"{qid}: removed")
    got = {l[2]: (l[0], l[3], l[9], l[10], l[11]) for l in status_lines(inst) if l[1] == qid}
    assert got == {"a@loud.example": ("discard", "none", "2.0.0", "sent", "bench"),
                   # an empty nexthop means the recipient domain (transport(5))
                   "b@quiet.example": ("discard", "none", "2.0.0", "sent", "quiet.example")}


@pytest.mark.parametrize("nexthop, dsn, reason", [
    ("5.1.1 User unknown", "5.1.1", "User unknown"),
    ("5.7.1  policy   says no", "5.7.1", "policy   says no"),
    ("mail for this domain is not deliverable", "5.0.0", "mail for this domain is not deliverable"),
    ("4.2.2 mailbox full", "5.2.2", "mailbox full"),      # error(8) bounces: class 5
    ("5.1.1.1 not a code", "5.0.0", "5.1.1.1 not a code"),
    ("", "5.0.0", "x.example"),                           # nexthop: the domain
])
def test_error_codes(make, nexthop, dsn, reason):
    inst = make(default_transport=f"error:{nexthop}" if nexthop else "error")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{qid}: to=<a@x.example>")
    (line,) = [l for l in status_lines(inst) if l[1] == qid]
    assert (line[0], line[3], line[9], line[10], line[11]) == ("error", "none", dsn, "bounced",
                                                                reason)
    wait_for(lambda: (inst.queue / "bounce" / qid).exists(), 10, what="bounce note")
    notes = (inst.queue / "bounce" / qid).read_text()
    assert f"status={dsn}\n" in notes and f"reason={reason}\n" in notes


def test_retry_defers(make):
    inst = make(default_transport="retry:5.4.4 no route for now")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{qid}: to=<a@x.example>")
    (line,) = [l for l in status_lines(inst) if l[1] == qid]
    assert (line[0], line[9], line[10], line[11]) == ("error", "4.4.4", "deferred",
                                                      "no route for now")
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred file")
    qf = read_queue_file(inst.queue / "deferred" / qid)
    assert [t for t, _ in qf.records if t in "RD"] == ["R"]      # still to deliver
    assert not (inst.queue / "bounce" / qid).exists()


@pytest.mark.parametrize("agent", ["discard", "error"])
def test_hostile_requests(make, agent):
    inst = make()
    inst.start()
    path = str(inst.queue / "private" / agent)
    wait_for(lambda: (inst.queue / "private" / agent).exists(), 10, what="socket")
    bad = [
        [("queue_id", "../../etc/passwd"), ("queue_name", "active")],
        [("queue_id", "ABCDEF1"), ("queue_name", "active"), ("flags", "0"),
         ("data_offset", "10"), ("data_size", "1"), ("sender", ""),
         ("arrival_time", "1"), ("rcpt_count", "1"), ("rcpt.0.address", "a@b"),
         ("rcpt.0.offset", "5")],                        # no such queue file
        [("x" * 300, "y")],                               # over-long name
    ]
    for pairs in bad:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        buf = bytearray()
        assert attr_read(s, buf, timeout=10) == {"status": "0"}     # ready
        s.sendall(attr_encode(pairs))
        try:
            reply = attr_read(s, buf, timeout=10)
            assert reply == {"status": "1"}                          # DEL_STAT_DEFER
        except EOFError:
            pass                                                     # or just hung up
        s.close()
    inst.wait_log(rf"postern/{agent}\[\d+\]: warning: ", count=2)
    assert not re.search(r"status=(sent|bounced)", inst.logtext())
