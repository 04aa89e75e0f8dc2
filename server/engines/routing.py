"""Which upstream replica takes a call: run affinity, bounded by load (least outstanding requests).

The calls of one swarm run share long prefixes (system prompt, tool schemas, the growing
conversation), so they go to the replica that took the run's first call, its *home*, where the
engine's prefix cache already holds them: the session affinity of vLLM production-stack's
session router, keyed by run id instead of a header. Affinity gives way to load the way
SGLang's router does in its cache-aware policy: when the home has more than `abs_threshold`
requests in flight above the least-loaded replica *and* more than `rel_threshold` times as
many, the call goes to the least-loaded replica (the run keeps its home for later calls).
Calls without a key, and spilled calls, take the least-loaded replica.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Candidate(Protocol):
    @property
    def healthy(self) -> bool: ...

    @property
    def outstanding(self) -> int: ...

    @property
    def requests(self) -> int: ...


C = TypeVar("C", bound=Candidate)


@dataclass(frozen=True, slots=True)
class Affinity:
    """When a run's home replica counts as overloaded; `enabled=False` routes by load alone."""

    abs_threshold: int = 32
    rel_threshold: float = 1.5
    enabled: bool = True
    # Runs remembered (least recently used forgotten first): bounds memory, not correctness.
    max_keys: int = 8192

    def __post_init__(self) -> None:
        if self.abs_threshold < 0 or self.rel_threshold < 1.0 or self.max_keys < 1:
            raise ValueError("affinity needs abs_threshold >= 0, rel_threshold >= 1, max_keys >= 1")

    def overloaded(self, home: int, least: int) -> bool:
        return home - least > self.abs_threshold and home > least * self.rel_threshold


@dataclass(frozen=True, slots=True)
class Choice(Generic[C]):
    replica: C
    # True when the call left its run's home because the home was overloaded.
    spilled: bool = False


class Router(Generic[C]):
    """Picks a replica per call; remembers each run's home replica."""

    def __init__(self, affinity: Affinity | None = None) -> None:
        self.affinity = affinity or Affinity()
        self._homes: OrderedDict[str, C] = OrderedDict()

    def choose(
        self, replicas: Sequence[C], key: str = "", exclude: Collection[C] = ()
    ) -> Choice[C]:
        """The replica for one call of run `key` ("" = no run), avoiding `exclude` if possible."""
        pool = _eligible(replicas, exclude)
        least = min(pool, key=_load)
        if not key or not self.affinity.enabled:
            return Choice(least)
        home = self._homes.get(key)
        if home is None or not home.healthy:
            self._remember(key, least)
            return Choice(least)
        self._homes.move_to_end(key)
        if home not in pool:  # failed this very call: try elsewhere, keep the home
            return Choice(least)
        if self.affinity.overloaded(home.outstanding, least.outstanding):
            return Choice(least, spilled=True)
        return Choice(home)

    def home_of(self, key: str) -> C | None:
        return self._homes.get(key)

    def _remember(self, key: str, replica: C) -> None:
        self._homes[key] = replica
        self._homes.move_to_end(key)
        while len(self._homes) > self.affinity.max_keys:
            self._homes.popitem(last=False)


def _eligible(replicas: Sequence[C], exclude: Collection[C]) -> list[C]:
    """Healthy untried replicas; else untried ones; else all (a stale health view must not stall)."""
    if not replicas:
        raise ValueError("no upstream replicas")
    untried = [r for r in replicas if r not in exclude]
    return [r for r in untried if r.healthy] or untried or list(replicas)


def _load(replica: Candidate) -> tuple[int, int]:
    # Ties (e.g. all idle) go to the replica that has served fewest calls: idle pools rotate.
    return replica.outstanding, replica.requests
