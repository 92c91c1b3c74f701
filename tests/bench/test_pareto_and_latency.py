"""Pareto front and the interleaved timing helpers."""

import time

from albert_tf.bench import interleaved_latency, median_ratio, pareto_front


def test_pareto_front_keeps_only_undominated_points():
    points = [(10, 0.80), (5, 0.70), (12, 0.75), (5, 0.80), (None, 0.9), (2, 0.60)]
    assert pareto_front(points) == [3, 5]


def test_interleaved_latency_runs_every_call_its_share_in_turns():
    order = []
    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    stats = interleaved_latency(calls, runs=6, warmup=1, rounds=3)
    assert stats["a"]["runs"] == 6 and stats["b"]["runs"] == 6
    # warm-up a, b, then rounds of two a's and two b's, alternating.
    assert "".join(order) == "ab" + "aabb" * 3


def test_median_ratio_sees_a_twice_slower_call():
    ratio = median_ratio(lambda: time.sleep(0.004), lambda: time.sleep(0.002), rounds=3, runs=3)
    assert 1.4 < ratio < 2.6
