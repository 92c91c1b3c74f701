"""Accuracy against latency and against size, with the Pareto front marked (PNG bytes)."""

from __future__ import annotations

import io

from albert_tf.bench.pareto import pareto_front


def tradeoff_png(rows: list[dict], cost_key: str, cost_label: str, title: str,
                 log_x: bool = False) -> bytes:
    """A scatter of `accuracy` against `row[cost_key]`; the front joined by a line.

    Args:
        rows: dicts with `label`, `accuracy`, `cost_key` (and optionally `group`: one colour
            per group, e.g. per run).
        cost_key: the x value's key.
        cost_label: x-axis label.
        title: plot title.
        log_x: logarithmic x axis (sizes spanning orders of magnitude).
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot's import
    import matplotlib.pyplot as plt

    points = [(r.get(cost_key), r.get("accuracy")) for r in rows]
    front = set(pareto_front(points))
    groups = list(dict.fromkeys(r.get("group", "") for r in rows))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for index, group in enumerate(groups):
        mine = [(i, r) for i, r in enumerate(rows) if r.get("group", "") == group
                and points[i][0] is not None]
        if not mine:
            continue
        colour = colours[index % len(colours)]
        ax.scatter([points[i][0] for i, _ in mine], [points[i][1] for i, _ in mine],
                   color=colour, label=group or None, zorder=3)
        ax.scatter([points[i][0] for i, _ in mine if i in front],
                   [points[i][1] for i, _ in mine if i in front], s=160, facecolors="none",
                   edgecolors="black", zorder=4)
        for i, r in mine:
            ax.annotate(r["label"], points[i], textcoords="offset points", xytext=(5, 4),
                        fontsize=7)
    ordered = sorted(points[i] for i in front)
    if ordered:
        ax.step([p[0] for p in ordered], [p[1] for p in ordered], where="post", color="black",
                linestyle="--", linewidth=1, label="Pareto front", zorder=2)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(cost_label)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
