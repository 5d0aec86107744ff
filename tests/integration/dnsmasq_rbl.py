"""dnsmasq with the records the restriction tests need (on top of dnsmasq_helper).

    from dnsmasq_rbl import RblDns, rbl_dns

    def test_x(rbl_dns):                       # the fixture: started by the test, stopped after
        rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2", "listed for testing")
        rbl_dns.spf("example.test", "v=spf1 ip4:127.0.0.1 -all")
        rbl_dns.ptr("127.0.0.2", "good.test")
        rbl_dns.start()

Differences from dnsmasq_helper.Dnsmasq:
  * txt() passes the text to dnsmasq without quotes: on dnsmasq's command
    line quotes are taken literally and would end up in the record (a TXT
    record '"v=spf1 -all"' is not an SPF record). A text may not contain a
    comma (dnsmasq splits TXT strings there).
  * ptr(addr, name) adds a PTR record for an IPv4 address; the reverse zone
    in-addr.arpa is answered locally (NXDOMAIN for what is not declared).
  * listed(addr, zone, answer, text) declares an RFC 5782 listing of an
    IPv4 address: the A record answer (and a TXT record when text is given)
    at the reversed address under zone. listed_domain(domain, zone, ...)
    does the same for a right-hand-side list.
  * spf(domain, record) is txt() under a clearer name; a_only(name, addr)
    makes A records without the PTR records host() also makes.
Names outside the local domains ("test" and "in-addr.arpa" unless told
otherwise) are REFUSED, which resolvers report as a temporary failure: a
name under "other.example" is the way to provoke temperror.
"""
import pytest

from dnsmasq_helper import Dnsmasq


def reverse_v4(addr: str) -> str:
    return ".".join(reversed(addr.split(".")))


class RblDns(Dnsmasq):
    def __init__(self, domains=("test", "in-addr.arpa")):
        super().__init__(domains=domains)

    def txt(self, name, text):
        if "," in text:
            raise ValueError("dnsmasq splits TXT strings at commas")
        self.records.append(f"--txt-record={name},{text}")
        return self

    def spf(self, domain, record):
        return self.txt(domain, record)

    def ptr(self, addr, name):
        self.records.append(f"--ptr-record={reverse_v4(addr)}.in-addr.arpa,{name}")
        return self

    def a_only(self, name, *addrs):
        """A records without the PTR records that host() also makes."""
        for a in addrs:
            self.rr(name, 1, "".join("%02x" % int(o) for o in a.split(".")))
        return self

    def listed(self, addr, zone, answer="127.0.0.2", text=None):
        name = f"{reverse_v4(addr)}.{zone}"
        self.a_only(name, answer)
        if text is not None:
            self.txt(name, text)
        return self

    def listed_domain(self, domain, zone, answer="127.0.0.2", text=None):
        name = f"{domain}.{zone}"
        self.a_only(name, answer)
        if text is not None:
            self.txt(name, text)
        return self


@pytest.fixture
def rbl_dns():
    d = RblDns()
    yield d
    d.cleanup()
