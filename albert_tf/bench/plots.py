"""Accuracy against latency and against size, with the Pareto front marked (PNG bytes).

Points carry numbers, not names: artifact names are long and points sit close together, so
names printed beside them overlap. The numbers are explained in a key under the axes, one
line per artifact; points that fall on the same spot share one label ("2, 5").
"""

from __future__ import annotations

import io

from albert_tf.bench.pareto import pareto_front

# Points closer than this share of the axes (in display space) get one combined label.
SAME_SPOT = 0.02


def point_labels(points: list[tuple[float, float]], width: float, height: float) -> list[tuple]:
    """`[(x, y, "1, 3")]`: the 1-based numbers of the points, those on the same spot joined.

    Args:
        points: `(x, y)` in display units (e.g. axes fractions), in row order.
        width, height: the spans that `SAME_SPOT` is a share of.
    """
    labels, used = [], set()
    for i, (x, y) in enumerate(points):
        if i in used:
            continue
        members = [j for j, (u, v) in enumerate(points) if j not in used
                   and abs(u - x) <= SAME_SPOT * width and abs(v - y) <= SAME_SPOT * height]
        used.update(members)
        labels.append((x, y, ", ".join(str(j + 1) for j in members)))
    return labels


def tradeoff_png(rows: list[dict], cost_key: str, cost_label: str, title: str,
                 log_x: bool = False) -> bytes:
    """A scatter of `accuracy` against `row[cost_key]`; the front joined by a line; each point
    numbered (its row's position, 1-based), the numbers explained in a key below.

    Args:
        rows: dicts with `label`, `accuracy`, `cost_key` (and optionally `group`: one colour
            per group, e.g. per run). Rows without a cost are left out of the plot and key.
        cost_key: the x value's key.
        cost_label: x-axis label.
        title: plot title.
        log_x: logarithmic x axis (sizes spanning orders of magnitude).
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot's import
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get(cost_key) is not None and r.get("accuracy") is not None]
    points = [(r[cost_key], r["accuracy"]) for r in rows]
    front = set(pareto_front(points))
    groups = list(dict.fromkeys(r.get("group", "") for r in rows))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    key_lines = [f"{i + 1}  {r['label']}" + (f"  [{r['group']}]" if r.get("group") else "")
                 for i, r in enumerate(rows)]
    key_height = 0.13 * len(key_lines) + 0.15  # inches: one 7-point line per artifact
    height = 4.2 + key_height
    # Axes above the key, leaving room for the x label (0.55 in) and the title (0.4 in).
    bottom = (key_height + 0.55) / height
    fig = plt.figure(figsize=(7, height), dpi=100)
    ax = fig.add_axes((0.11, bottom, 0.85, 1 - bottom - 0.4 / height))
    for index, group in enumerate(groups):
        mine = [i for i, r in enumerate(rows) if r.get("group", "") == group]
        colour = colours[index % len(colours)]
        ax.scatter([points[i][0] for i in mine], [points[i][1] for i in mine],
                   color=colour, label=group or None, zorder=3)
        ax.scatter([points[i][0] for i in mine if i in front],
                   [points[i][1] for i in mine if i in front], s=160, facecolors="none",
                   edgecolors="black", zorder=4)
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
    if points:
        # Same-spot grouping in axes fractions, so it works on log axes too; drawing first
        # settles the autoscaled limits that the data-to-axes transform depends on.
        fig.canvas.draw()
        to_axes = ax.transAxes.inverted()
        display = [to_axes.transform(ax.transData.transform(p)) for p in points]
        for x, y, text in point_labels([tuple(d) for d in display], 1.0, 1.0):
            ax.annotate(text, (x, y), xycoords="axes fraction", textcoords="offset points",
                        xytext=(9, 6), fontsize=8, fontweight="bold")
    fig.text(0.02, 0.02, "\n".join(key_lines), fontsize=7, family="monospace",
             va="bottom", ha="left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
