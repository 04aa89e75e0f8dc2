"""Which addresses are public: the one predicate every outbound fetch is vetted with.

`parse_ip` reads a host the way the OS resolver reads a numeric host (`inet_aton`: decimal,
octal `0177`, hex `0x7f`, and the short forms `127.1`, `2130706433`), so a URL cannot hide a
private address behind a spelling. `is_public` admits globally routable unicast only; an IPv6
address that carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address inside.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _nets(*texts: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(t) for t in texts)


# IANA special-purpose IPv4 ranges (RFC 6890 and successors) that are not global unicast.
_V4_REFUSED = _nets(
    "0.0.0.0/8",  # "this network", 0.0.0.0 unspecified
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata lives here)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
    "192.168.0.0/16",  # private
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
)
# IPv6 must be global unicast (2000::/3): that alone refuses ::, ::1, IPv4-compatible ::/96,
# fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast and
# every unassigned or reserved block. Inside 2000::/3 these are still not public:
_V6_GLOBAL = ipaddress.ip_network("2000::/3")
_V6_REFUSED = _nets(
    "2001::/23",  # IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID)
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: v4 in the low 32 bits


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through (mapped, NAT64, 6to4); None otherwise."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (see the tables above)."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(inner)
    if isinstance(ip, ipaddress.IPv6Address):
        refused = ip not in _V6_GLOBAL or any(ip in net for net in _V6_REFUSED)
    else:
        refused = any(ip in net for net in _V4_REFUSED)
    # `is_global` (Python's copy of the IANA registries) can only refuse more.
    return not refused and ip.is_global


# One part of a numeric IPv4 host as inet_aton reads it: hex, octal (leading 0), decimal.
_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """`a.b.c.d`, `a.b.c` (c is 16 bits), `a.b` (b is 24 bits) or `a` (32 bits), any base."""
    parts = text.removesuffix(".").split(".")  # a trailing dot is still the same address
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = [int(p[2:], 16) if p[:2] in ("0x", "0X") else int(p, 8 if p[0] == "0" else 10)
              for p in parts]  # fmt: skip
    *head, last = values
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    for shift, value in enumerate(reversed(head), start=4 - len(head)):
        last |= value << (8 * shift)
    return ipaddress.IPv4Address(last)


def parse_ip(host: str) -> IPAddress | None:
    """The address a numeric host names (`[::1]`, `fe80::1%eth0`, `0x7f.1`); None for a name."""
    text = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return _inet_aton(text)
