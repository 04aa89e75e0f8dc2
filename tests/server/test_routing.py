"""The pool's routing rule: least outstanding requests, run affinity bounded by imbalance."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.engines.routing import Affinity, Router


@dataclass(eq=False)
class R:
    name: str
    outstanding: int = 0
    requests: int = 0
    healthy: bool = True


def pool(*loads: int) -> list[R]:
    return [R(f"r{i}", n) for i, n in enumerate(loads)]


def test_without_a_key_the_least_outstanding_replica_wins() -> None:
    replicas = pool(3, 1, 2)
    assert Router[R]().choose(replicas).replica is replicas[1]


def test_idle_ties_rotate_by_calls_served() -> None:
    replicas = pool(0, 0, 0)
    replicas[0].requests, replicas[1].requests, replicas[2].requests = 5, 2, 4
    assert Router[R]().choose(replicas).replica is replicas[1]


def test_unhealthy_and_excluded_replicas_are_avoided_while_others_remain() -> None:
    replicas = pool(0, 5, 9)
    replicas[0].healthy = False
    router = Router[R]()
    assert router.choose(replicas).replica is replicas[1]
    assert router.choose(replicas, exclude=[replicas[1]]).replica is replicas[2]
    # Nothing healthy and untried left: an unhealthy one beats failing outright.
    assert router.choose(replicas, exclude=replicas[1:]).replica is replicas[0]


def test_a_run_stays_on_its_home_while_load_is_within_the_threshold() -> None:
    replicas = pool(0, 0, 0)
    router = Router[R](Affinity(abs_threshold=4, rel_threshold=1.5))
    home = router.choose(replicas, "run-1").replica
    for _ in range(4):  # the home fills up while the others stay idle
        home.outstanding += 1
        assert router.choose(replicas, "run-1").replica is home
    home.outstanding += 1  # now 5 > 0 + 4 and 5 > 0 * 1.5: spill to the least loaded
    choice = router.choose(replicas, "run-1")
    assert choice.spilled and choice.replica is not home and choice.replica.outstanding == 0
    assert router.home_of("run-1") is home  # the run keeps its home for later calls


def test_the_relative_threshold_keeps_affinity_under_uniformly_high_load() -> None:
    replicas = pool(40, 30, 35)
    router = Router[R](Affinity(abs_threshold=4, rel_threshold=1.5))
    router._remember("run", replicas[0])
    # 40 - 30 > 4, but 40 < 30 * 1.5: not overloaded in SGLang's sense.
    assert router.choose(replicas, "run").replica is replicas[0]
    replicas[0].outstanding = 46  # 46 > 45
    assert router.choose(replicas, "run").spilled


def test_runs_get_different_homes_by_load() -> None:
    replicas = pool(0, 0, 0)
    router = Router[R]()
    homes = []
    for i in range(3):
        homes.append(router.choose(replicas, f"run-{i}").replica)
        homes[-1].outstanding += 1
    assert len({h.name for h in homes}) == 3


def test_an_unhealthy_home_is_replaced_and_a_failed_one_only_skipped() -> None:
    replicas = pool(0, 1, 1)
    router = Router[R]()
    assert router.choose(replicas, "run").replica is replicas[0]
    assert router.choose(replicas, "run", exclude=[replicas[0]]).replica is not replicas[0]
    assert router.home_of("run") is replicas[0]
    replicas[0].healthy = False
    new = router.choose(replicas, "run").replica
    assert new is not replicas[0] and router.home_of("run") is new


def test_affinity_off_routes_by_load_alone() -> None:
    replicas = pool(0, 0)
    router = Router[R](Affinity(enabled=False))
    first = router.choose(replicas, "run").replica
    first.outstanding += 1
    assert router.choose(replicas, "run").replica is not first


def test_remembered_runs_are_bounded() -> None:
    router = Router[R](Affinity(max_keys=2))
    replicas = pool(0)
    for key in ("a", "b", "c"):
        router.choose(replicas, key)
    assert router.home_of("a") is None and router.home_of("c") is replicas[0]


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError):
        Affinity(rel_threshold=0.5)
    with pytest.raises(ValueError):
        Router[R]().choose([])
