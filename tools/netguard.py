"""Outbound address policy: which hosts a tool may reach (docs/architecture.md, "Bad input and safety").

A host is resolved once, every address is vetted, and the caller connects to the
vetted address itself, so a second DNS answer (rebinding) can never swap it.
Private, loopback, link-local, multicast, reserved and unspecified addresses are
refused unless the operator's allow-list names the host, the address or its network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from tools.base import ToolError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> addresses (strings); the default asks the system resolver.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `getaddrinfo` gives for `host` (TCP)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve host {host!r} ({exc.strerror})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(ip: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public(ip.ipv4_mapped)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(slots=True, frozen=True)
class AllowList:
    """Operator exceptions: host names (exact, lower case) and networks (`10.0.0.0/8`, `::1`)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def allows(self, host: str, ip: IPAddress) -> bool:
        return host.lower().rstrip(".") in self.hosts or any(ip in net for net in self.networks)


@dataclass(slots=True)
class Guard:
    """Resolves and vets destinations for one tool."""

    allow: AllowList = AllowList()
    resolver: Resolver = system_resolver

    async def vet(self, host: str, port: int, extra: Iterable[str] = ()) -> str:
        """The address to connect to for `host`, or `ToolError` if any answer is forbidden."""
        allow = self.allow if not extra else AllowList.parse([*self._entries(), *extra])
        bare = host.strip("[]")
        try:
            addresses = [str(ipaddress.ip_address(bare))]
        except ValueError:
            addresses = await self.resolver(bare, port)
        if not addresses:
            raise ToolError(f"host {host!r} has no addresses")
        # Refuse if ANY answer is forbidden: a mixed answer is how rebinding attacks start.
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if not is_public(ip) and not allow.allows(bare, ip):
                raise ToolError(
                    f"refusing to connect to {host!r}: it resolves to non-public address {ip} "
                    "(the operator can allow it with --tool-allow-host)"
                )
        return addresses[0]

    def _entries(self) -> list[str]:
        return [*self.allow.hosts, *(str(n) for n in self.allow.networks)]
