"""The one outbound-address policy: resolve a host, vet every address with one predicate,
connect to the vetted IP, re-vet every redirect (docs/architecture.md, "Bad input and safety").

Used by `fetch_url`, web search and media URL fetching; imports only the standard library
and httpx.
"""

from net.address import is_public, parse_ip
from net.errors import BadURL, NetError, Refused, SendFailed, TooManyRedirects, Unresolvable
from net.fetch import Fetcher, Hop, read_capped
from net.policy import AllowList, Policy, Resolver, system_resolver
from net.transport import PinnedTransport, host_of, parse_target, pinned_client

__all__ = [
    "AllowList",
    "BadURL",
    "Fetcher",
    "Hop",
    "NetError",
    "PinnedTransport",
    "Policy",
    "Refused",
    "Resolver",
    "SendFailed",
    "TooManyRedirects",
    "Unresolvable",
    "host_of",
    "is_public",
    "parse_ip",
    "parse_target",
    "pinned_client",
    "read_capped",
    "system_resolver",
]
