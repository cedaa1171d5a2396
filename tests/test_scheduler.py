"""The multi-objective ASHA scheduler, driven by a fake trainer with asynchronous workers."""

from __future__ import annotations

import heapq
import json

import numpy as np
import pytest

from hybridmoo.errors import ConfigError
from hybridmoo.scheduler import AshaScheduler, mo_order, rung_budgets


@pytest.mark.parametrize("args, want", [
    ((100, 900, 3), [100, 300, 900]),
    ((100, 1000, 3), [100, 300, 900, 1000]),
    ((1, 1, 3), [1]),
    ((10, 80, 2), [10, 20, 40, 80]),
    ((0.5, 4.0, 2), [0.5, 1.0, 2.0, 4.0]),
])
def test_rung_budgets(args, want):
    assert rung_budgets(*args) == want


@pytest.mark.parametrize("args, words", [
    ((0, 10, 3), "must be > 0"), ((20, 10, 3), "exceeds max_budget"),
    ((1, 10, 1), "must be > 1"), ((1, float("inf"), 3), "finite"), ((1, 10, True), "finite"),
])
def test_bad_rungs_are_refused(args, words):
    with pytest.raises(ConfigError, match=words):
        rung_budgets(*args)


def test_mo_order_ranks_then_crowding_then_id():
    objs = {0: [0.0, 1.0], 1: [0.5, 0.5], 2: [1.0, 0.0], 3: [0.6, 0.6], 4: [np.nan, 0.0],
            5: [0.4, 0.6]}
    order = mo_order(objs)
    # front 0: 0, 2 (infinite crowding), then 1 and 5; 3 dominated by 1; NaN last
    assert order[:2] == [0, 2]
    assert set(order[2:4]) == {1, 5}
    assert order[4:] == [3, 4]


def test_single_objective_is_plain_asha():
    s = AshaScheduler(1, 9, 3)
    for t, v in enumerate([5.0, 2.0, 8.0, 1.0, 9.0, 3.0]):
        s.start(t, 0)
        s.report(t, 0, [v])
    # 6 results at rung 0: the best 2 (trials 3 and 1) are promotable, best first
    assert s.next_promotion() == (3, 1)
    s.start(3, 1)
    assert s.next_promotion() == (1, 1)
    s.start(1, 1)
    assert s.next_promotion() is None  # trial 5 is third: not in the top 1/η
    s.report(3, 1, [0.5])
    assert s.next_promotion() is None  # one result at rung 1: ⌊1/3⌋ = 0
    # stopped: rung-0 trials not promoted, and trial 3, which waits at rung 1 (1 is running)
    assert s.stopped() == [0, 2, 3, 4, 5]
    assert s.rung_of(3) == 1 and s.rung_of(0) == 0 and s.rung_of(99) == -1


def test_misuse_is_an_error():
    s = AshaScheduler(1, 9, 3)
    with pytest.raises(ValueError, match="has not completed rung 0"):
        s.start(0, 1)
    s.start(0, 0)
    with pytest.raises(ValueError, match="already running"):
        s.start(0, 0)
    with pytest.raises(ValueError, match="was not running to rung 1"):
        s.report(0, 1, [1.0])


def simulate(n_configs: int, workers: int, seed: int, scheduler: AshaScheduler | None = None,
             stop_after: int | None = None):
    """Event-driven fake study: configuration t has a quality q_t (smaller is better) and a
    direction θ_t; its two objectives are (q_t + noise)·(1 + cos θ_t, 1 + sin θ_t), the noise
    shrinking with the budget; training time ∝ the budget added, randomised (workers finish
    out of order)."""
    rng = np.random.default_rng(seed)
    q = rng.random(n_configs)
    theta = rng.random(n_configs) * np.pi / 2
    s = scheduler or AshaScheduler(1, 27, 3)
    events, clock, next_cfg, log, n_events = [], 0.0, 0, [], 0

    def launch():
        nonlocal next_cfg
        promo = s.next_promotion()
        if promo is not None:
            t, k = promo
            # the promotion must be valid at the moment it is made
            done = s.results[k - 1]
            assert t in mo_order(done)[: int(len(done) // s.eta)]
            s.start(t, k)
            added = s.budgets[k] - s.budgets[k - 1]
        elif next_cfg < n_configs:
            t, k = next_cfg, 0
            while t in s.results[0] or t in s.running:  # resumed: skip what is known
                t += 1
            next_cfg = t + 1
            if t >= n_configs:
                return False
            s.start(t, 0)
            added = s.budgets[0]
        else:
            return False
        dur = added * (0.5 + rng.random())  # out-of-order finishing
        heapq.heappush(events, (clock + dur, t, k))
        return True

    for _ in range(workers):
        launch()
    while events:
        clock, t, k = heapq.heappop(events)
        f = q[t] + rng.normal(0, 0.3 / s.budgets[k])
        s.report(t, k, [f * (1 + np.cos(theta[t])), f * (1 + np.sin(theta[t]))])
        log.append((t, k))
        n_events += 1
        if stop_after is not None and n_events >= stop_after:
            return s, q, log
        while len(events) < workers and launch():
            pass
    return s, q, log


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_async_workers_promotions_and_counts(seed):
    s, q, log = simulate(n_configs=81, workers=4, seed=seed)
    assert len(s.results[0]) == 81
    for k in range(1, len(s.budgets)):
        # every trial at rung k completed rung k-1 and was promoted from it
        assert set(s.results[k]) <= s.promoted[k - 1] <= set(s.results[k - 1])
        # asynchronous: a trial promoted early may drop out of the top 1/η later (each promotion
        # was valid when made, see simulate), so a rung can promote a little more than n/η
        assert len(s.promoted[k - 1]) <= len(s.results[k - 1]) // 3 + 4 * len(s.budgets)
    assert 1 <= len(s.results[s.top]) <= 8  # synchronous halving: 81 / 27 = 3; ASHA overshoots
    assert not s.running
    # selection works: the trials promoted at each rung are better than those left behind
    for k in range(len(s.budgets) - 1):
        kept = [q[t] for t in s.promoted[k]]
        left = [q[t] for t in s.results[k] if t not in s.promoted[k]]
        assert np.mean(kept) < np.mean(left)
    assert all(s.finished(t) for t in s.results[s.top])
    stopped = s.stopped()
    assert set(stopped).isdisjoint(s.results[s.top])
    assert len(stopped) + len(s.results[s.top]) == 81 - sum(
        1 for t in range(81) if t in s.promoted[0] and t not in s.results[1])


def test_resume_mid_rung_continues_the_schedule():
    """Kill the driver after 40 results (trials in flight are lost), restore from the JSON
    state, finish: every configuration completes rung 0 once, promotions stay valid."""
    s, q, log = simulate(n_configs=81, workers=4, seed=5, stop_after=40)
    in_flight = dict(s.running)
    assert in_flight  # some trials were mid-rung
    state = json.loads(json.dumps(s.state()))
    r = AshaScheduler.from_state(state)
    assert not r.running
    assert [dict(x) for x in r.results] == [dict(x) for x in s.results]
    # a promotion in flight was undone: that trial is promotable again
    for t, k in in_flight.items():
        if k > 0:
            assert t not in r.promoted[k - 1]
    r2, _, _ = simulate(n_configs=81, workers=4, seed=6, scheduler=r)
    assert len(r2.results[0]) == 81
    for k in range(1, len(r2.budgets)):
        assert set(r2.results[k]) <= r2.promoted[k - 1] <= set(r2.results[k - 1])
