"""Charts as vector SVG (matplotlib's SVG backend), deterministic: no date in the metadata, a fixed id salt,
text drawn as paths with matplotlib's bundled DejaVu Sans, so a chart is identical on every machine."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

_READY = False
INK = "#1f3b57"
ACCENT = "#c0504d"
MUTED = "#8da9c4"
MAX_TICKS = 40


def _plt():
    global _READY
    import matplotlib

    matplotlib.use("svg", force=True)
    import matplotlib.pyplot as plt

    if not _READY:
        matplotlib.rcParams.update({
            "svg.hashsalt": "rm_pipelines", "svg.fonttype": "path", "font.family": "DejaVu Sans",
            "font.size": 8, "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 9,
            "axes.titleweight": "bold", "figure.dpi": 72,
        })
        _READY = True
    return plt


def _svg(fig) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.tight_layout(pad=0.3)  # one layout pass; bbox_inches="tight" would draw the figure twice
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def bars(title: str, labels: Sequence[str], values: Sequence[float | int | Decimal], *, xlabel: str = "",
         ylabel: str = "", highlight: Sequence[bool] | None = None, size: tuple[float, float] = (3.4, 2.2),
         horizontal: bool = False, zero_line: bool = False, rotate: int | None = None) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    colors = [ACCENT if (highlight and highlight[i]) else INK for i in range(len(values))]
    vals = [float(v) for v in values]
    if horizontal:
        ax.barh(range(len(vals)), vals, color=colors)
        ax.set_yticks(range(len(vals)), labels)
        ax.invert_yaxis()
    else:
        ax.bar(range(len(vals)), vals, color=colors)
        step = max(1, -(-len(labels) // MAX_TICKS))  # label every n-th bar: readable, and cheap to draw
        ticks = list(range(0, len(labels), step))
        ax.set_xticks(ticks, [labels[i] for i in ticks],
                      rotation=rotate if rotate is not None else 90 if len(ticks) > 12 else 0)
    if zero_line:
        (ax.axvline if horizontal else ax.axhline)(0, color="black", linewidth=0.6)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _svg(fig)


def line(title: str, labels: Sequence[str], values: Sequence[int], *, ylabel: str = "",
         size: tuple[float, float] = (7.0, 2.2)) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    ax.plot(range(len(values)), values, marker="o", color=INK)
    ax.fill_between(range(len(values)), values, color=MUTED, alpha=0.35)
    ax.set_xticks(range(len(values)), labels, rotation=45 if len(labels) > 8 else 0)
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return _svg(fig)


def stacked(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], *,
            size: tuple[float, float] = (3.4, 2.2), rotate: int = 0) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    bottom = [0.0] * len(labels)
    palette = [INK, MUTED, ACCENT, "#6b8e23", "#999999"]
    for i, (name, values) in enumerate(series.items()):
        ax.bar(range(len(labels)), values, bottom=bottom, label=name, color=palette[i % len(palette)])
        bottom = [b + v for b, v in zip(bottom, values)]
    if rotate:  # many labels (months): every n-th one, turned
        step = max(1, -(-len(labels) // 7))
        ax.set_xticks(range(0, len(labels), step), list(labels)[::step], rotation=rotate)
    else:
        ax.set_xticks(range(len(labels)), labels)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    return _svg(fig)


def data_uri(svg: str) -> str:
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, ylabel: str = "",
          percent: bool = False, size: tuple[float, float] = (3.4, 2.2)) -> str:
    """Several series over the same labels (None = no value that month: a gap, never a zero)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    palette = [INK, ACCENT, MUTED, "#6b8e23"]
    for i, (name, values) in enumerate(series.items()):
        ys = [float("nan") if v is None else float(v) * (100 if percent else 1) for v in values]
        ax.plot(range(len(ys)), ys, marker="o", markersize=3, color=palette[i % len(palette)], label=name)
    step = max(1, -(-len(labels) // 12))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45 if len(ticks) > 6 else 0)
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0f} %")
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=7)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return _svg(fig)
