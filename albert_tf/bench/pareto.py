"""The Pareto front: artifacts no other artifact beats on both accuracy and cost."""

from __future__ import annotations


def pareto_front(points) -> list[int]:
    """Indices of the points on the front, where a point is `(cost, accuracy)`: lower cost
    and higher accuracy are better. A point is off the front when another is at least as
    good on both and strictly better on one. Points with a None are never on it.

    Examples:
    >>> pareto_front([(10, 0.8), (5, 0.7), (12, 0.75), (5, 0.8)])
    [3]
    >>> pareto_front([(1, 0.5), (2, 0.6), (3, 0.7)])
    [0, 1, 2]
    """
    valid = [(i, c, a) for i, (c, a) in enumerate(points) if c is not None and a is not None]
    front = []
    for i, cost, accuracy in valid:
        dominated = any(c <= cost and a >= accuracy and (c < cost or a > accuracy)
                        for j, c, a in valid if j != i)
        if not dominated:
            front.append(i)
    return front
