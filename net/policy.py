"""Resolve a host once and vet every answer (docs/architecture.md, "Bad input and safety").

The caller then connects to the vetted address itself (`net.transport`), so a second DNS
answer (rebinding) can never swap it. A host is refused when ANY of its addresses is not
public, unless the operator's allow-list names the host, the address or its network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace

from net.address import IPAddress, embedded_ipv4, is_public, parse_ip
from net.errors import Refused, Unresolvable

# host, port -> addresses as text; the default asks the system resolver.
Resolver = Callable[[str, int], Awaitable[list[str]]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `getaddrinfo` gives for `host` (TCP), in its order, once each."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(slots=True, frozen=True)
class AllowList:
    """Operator exceptions: host names (exact, any case) and networks (`10.0.0.0/8`, `::1`)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Entries that read as an address or network are networks; the rest are host names."""
        hosts: set[str] = set()
        nets: list[Network] = []
        for entry in entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    @classmethod
    def everything(cls) -> AllowList:
        """Every address (e.g. `--media-allow-private`)."""
        return cls.parse(["0.0.0.0/0", "::/0"])

    def __or__(self, other: AllowList) -> AllowList:
        return AllowList(self.hosts | other.hosts, (*self.networks, *other.networks))

    def allows(self, host: str, ip: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        inner = embedded_ipv4(ip)  # `10.0.0.0/8` also admits ::ffff:10.0.0.1
        return any(addr in net for net in self.networks for addr in (ip, inner) if addr)


def _answer(host: str, text: str) -> IPAddress:
    ip = parse_ip(text)
    if ip is None:
        raise Unresolvable(host, f"the resolver answered {text!r}, not an address")
    return ip


@dataclass(slots=True, frozen=True)
class Policy:
    """Where outbound requests may go: public addresses, plus what `allow` names."""

    allow: AllowList = field(default_factory=AllowList)
    resolver: Resolver = system_resolver

    def allowing(self, entries: Iterable[str]) -> Policy:
        """This policy with more allow-list entries (e.g. a request's own)."""
        extra = AllowList.parse(entries)
        return replace(self, allow=self.allow | extra) if extra != AllowList() else self

    async def vet(self, host: str, port: int) -> str:
        """The address to connect to for `host`; `Refused` or `Unresolvable` otherwise."""
        literal = parse_ip(host)
        if literal is not None:  # numeric hosts (any spelling) are never sent to DNS
            addresses = [literal]
        else:
            try:
                answers = await self.resolver(host, port)
            except OSError as exc:
                raise Unresolvable(host, exc.strerror or str(exc)) from exc
            addresses = [_answer(host, a) for a in answers]
        if not addresses:
            raise Unresolvable(host)
        # Refuse if ANY answer is forbidden: a mixed answer is how rebinding attacks start.
        for ip in addresses:
            if not is_public(ip) and not self.allow.allows(host, ip):
                raise Refused(host, str(ip))
        return str(addresses[0])
