"""One table of addresses against the one predicate, and through `Policy.vet` with a
stubbed resolver (no socket opens: the resolver is a dict, nothing connects)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from net import AllowList, Policy, Refused, Unresolvable, is_public, parse_ip

# (host as written, public?). Spellings other than the canonical one are normalised the way
# the OS resolver reads numeric hosts (checked against getaddrinfo below).
TABLE: list[tuple[str, bool]] = [
    # IPv4 private, CGNAT, loopback, link-local, unspecified, multicast, reserved, special
    ("10.0.0.1", False),
    ("10.255.255.255", False),
    ("172.16.0.1", False),
    ("172.31.255.254", False),
    ("192.168.1.1", False),
    ("100.64.0.1", False),  # shared address space (CGNAT)
    ("100.127.255.254", False),
    ("127.0.0.1", False),
    ("127.255.255.254", False),
    ("169.254.169.254", False),  # cloud metadata
    ("0.0.0.0", False),
    ("0.1.2.3", False),
    ("224.0.0.1", False),
    ("239.255.255.250", False),
    ("240.0.0.1", False),
    ("255.255.255.255", False),
    ("192.0.0.8", False),
    ("192.0.2.1", False),
    ("198.18.0.1", False),
    ("198.51.100.7", False),
    ("203.0.113.9", False),
    ("192.88.99.1", False),
    # IPv4 in other spellings: decimal, octal, hex, short forms
    ("2130706433", False),  # 127.0.0.1
    ("0177.0.0.1", False),
    ("0x7f.1", False),
    ("0x7F000001", False),
    ("127.1", False),
    ("017700000001", False),
    ("10.1", False),  # 10.0.0.1
    ("192.168.257", False),  # 192.168.1.1
    ("0xa9.0xfe.0xa9.0xfe", False),  # 169.254.169.254
    ("0", False),  # 0.0.0.0
    ("127.0.0.1.", False),  # trailing dot
    # IPv6 loopback, unspecified, unique-local, link-local, site-local, multicast, reserved
    ("::1", False),
    ("::", False),
    ("[::1]", False),
    ("fd00::1", False),
    ("fc00::1", False),
    ("fe80::1", False),
    ("fe80::1%eth0", False),
    ("fec0::1", False),
    ("ff02::1", False),
    ("ff0e::1", False),
    ("100::1", False),  # discard-only
    ("2001:db8::1", False),  # documentation
    ("3fff::1", False),  # documentation
    ("2001::1", False),  # Teredo
    ("2001:2::1", False),  # benchmarking
    ("4000::1", False),  # outside global unicast
    # IPv6 carrying IPv4: mapped, compatible, NAT64, 6to4 (the IPv4 inside decides)
    ("::ffff:127.0.0.1", False),
    ("::ffff:10.0.0.1", False),
    ("::ffff:7f00:1", False),
    ("::ffff:169.254.169.254", False),
    ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
    ("::8.8.8.8", False),  # IPv4-compatible: never routed, refused whatever is inside
    ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ("64:ff9b::7f00:1", False),
    ("64:ff9b:1::808:808", False),  # local-use NAT64 prefix
    ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
    ("2002:7f00:1::1", False),
    # public: must pass
    ("8.8.8.8", True),
    ("1.1.1.1", True),
    ("93.184.215.14", True),
    ("100.63.255.255", True),  # just below CGNAT
    ("100.128.0.1", True),  # just above CGNAT
    ("172.32.0.1", True),  # just above 172.16/12
    ("223.255.255.254", True),  # just below multicast
    ("134744072", True),  # 8.8.8.8 in decimal
    ("0x8.0x8.0x8.0x8", True),
    ("1.256", True),  # 1.0.1.0
    ("2606:4700:4700::1111", True),
    ("2001:4860:4860::8888", True),
    ("2a00:1450:4001:82a::200e", True),
    ("::ffff:8.8.8.8", True),
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
]
IDS = [host for host, _ in TABLE]


async def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"a numeric host must not be resolved: {host!r}")


def stub_resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


def test_the_table_covers_both_verdicts() -> None:
    assert len(TABLE) >= 60
    assert {public for _, public in TABLE} == {True, False}


@pytest.mark.parametrize(("host", "public"), TABLE, ids=IDS)
def test_predicate(host: str, public: bool) -> None:
    ip = parse_ip(host)
    assert ip is not None, f"{host!r} should read as an address"
    assert is_public(ip) is public


@pytest.mark.parametrize(("host", "public"), TABLE, ids=IDS)
async def test_numeric_host_through_the_policy(host: str, public: bool) -> None:
    policy = Policy(resolver=no_dns)
    if public:
        assert await policy.vet(host, 443) == str(parse_ip(host))
    else:
        with pytest.raises(Refused) as err:
            await policy.vet(host, 443)
        assert err.value.address == str(parse_ip(host))


@pytest.mark.parametrize(("host", "public"), TABLE, ids=IDS)
async def test_resolver_answer_through_the_policy(host: str, public: bool) -> None:
    answer = str(parse_ip(host))  # resolvers answer in canonical form
    policy = Policy(resolver=stub_resolver({"name.example": [answer]}))
    if public:
        assert await policy.vet("name.example", 80) == answer
    else:
        with pytest.raises(Refused, match="non-public address"):
            await policy.vet("name.example", 80)


NUMERIC_SPELLINGS = [
    ("2130706433", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("0x7f.0.1", "127.0.0.1"),
    ("00000000177.1", "127.0.0.1"),
    ("192.168.257", "192.168.1.1"),
    ("1.256", "1.0.1.0"),
    ("0xffffffff", "255.255.255.255"),
    ("010.010.010.010", "8.8.8.8"),
    ("0", "0.0.0.0"),
]
NOT_NUMERIC = ["0x", "08.1.1.1", "1.2.3.4.5", "256.1.1.1", "1.2.65536", "4294967296",
               "1e3", "example.com", "127.0.0.1.x", "", "١٢٧.0.0.1"]  # fmt: skip


@pytest.mark.parametrize(("spelling", "address"), NUMERIC_SPELLINGS)
def test_numeric_spellings_read_like_the_os_resolver(spelling: str, address: str) -> None:
    assert str(parse_ip(spelling)) == address
    # AI_NUMERICHOST: getaddrinfo only parses, it never asks DNS.
    infos = socket.getaddrinfo(spelling, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    assert {info[4][0] for info in infos} == {address}


@pytest.mark.parametrize("name", NOT_NUMERIC)
def test_names_are_not_addresses(name: str) -> None:
    assert parse_ip(name) is None
    if name and name.isascii():
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)


async def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    policy = Policy(resolver=stub_resolver({"rebind.example": ["93.184.215.14", "10.0.0.5"]}))
    with pytest.raises(Refused) as err:
        await policy.vet("rebind.example", 80)
    assert (err.value.host, err.value.address) == ("rebind.example", "10.0.0.5")


async def test_the_first_vetted_answer_is_the_one_to_connect_to() -> None:
    answers = ["2606:4700:4700::1111", "1.1.1.1"]
    policy = Policy(resolver=stub_resolver({"one.example": answers}))
    assert await policy.vet("one.example", 443) == "2606:4700:4700::1111"


@pytest.mark.parametrize(
    ("entries", "host", "answer", "allowed"),
    [
        (["intranet.example"], "intranet.example", "10.0.0.5", True),
        (["INTRANET.example."], "intranet.example", "10.0.0.5", True),  # case, trailing dot
        (["intranet.example"], "other.example", "10.0.0.5", False),
        (["10.0.0.5"], "any.example", "10.0.0.5", True),  # an address
        (["10.0.0.5"], "any.example", "10.0.0.6", False),
        (["10.0.0.0/8"], "any.example", "10.9.8.7", True),  # a network
        (["10.0.0.0/8"], "any.example", "::ffff:10.9.8.7", True),  # mapped: the v4 inside
        (["10.0.0.0/8"], "any.example", "192.168.0.1", False),
        (["fd00::/8", "[::1]"], "any.example", "fd12::1", True),
        (["::1"], "any.example", "::1", True),
    ],
)
async def test_allow_list(entries: list[str], host: str, answer: str, allowed: bool) -> None:
    policy = Policy(AllowList.parse(entries), stub_resolver({host: [answer]}))
    if allowed:
        assert await policy.vet(host, 80) == str(ipaddress.ip_address(answer))
    else:
        with pytest.raises(Refused):
            await policy.vet(host, 80)


async def test_allowing_adds_entries_and_everything_admits_all() -> None:
    base = Policy(resolver=no_dns)
    with pytest.raises(Refused):
        await base.vet("127.0.0.1", 80)
    assert await base.allowing(["127.0.0.0/8"]).vet("0x7f.1", 80) == "127.0.0.1"
    everything = Policy(AllowList.everything(), no_dns)
    for host in ("10.0.0.1", "::1", "224.0.0.1", "0.0.0.0"):
        assert await everything.vet(host, 80) == str(parse_ip(host))


async def test_resolver_failures_are_unresolvable() -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(Unresolvable, match=r"cannot resolve host 'gone\.example'"):
        await Policy(resolver=broken).vet("gone.example", 80)
    with pytest.raises(Unresolvable, match="has no addresses"):
        await Policy(resolver=stub_resolver({"empty.example": []})).vet("empty.example", 80)
    with pytest.raises(Unresolvable, match="not an address"):
        await Policy(resolver=stub_resolver({"odd.example": ["nonsense"]})).vet("odd.example", 80)
