"""Figures of the model zoo: accuracy against a cost (measured ms per image,
or GFLOPs), one panel per precision, one marker per publisher, the Pareto
front drawn and its models labelled. matplotlib (a requirement of
mmengine) is imported when a figure is drawn."""
import os
from typing import Dict, List, NamedTuple, Sequence

from .zoo import measured_front, pareto_front

#: marker and colour of each publisher (others get the last one)
STYLES = {
    'OpenMMLab': ('o', '#1f77b4'),
    'pycls': ('s', '#ff7f0e'),
    'torchvision': ('^', '#2ca02c'),
    'timm': ('D', '#d62728'),
    'SEER': ('P', '#9467bd'),
    None: ('X', '#7f7f7f'),
}


class Point(NamedTuple):
    """One model in a panel: ``cost`` on the (log) x axis, ``value`` on the
    y axis."""
    label: str
    publisher: str
    cost: float
    value: float


def short_label(arch: str, weights: str = '', input_size: int = 224) -> str:
    """``regnety_16gf``, ``tv-swag-e2e``, 384 -> ``Y-16GF tv-swag-e2e 384``."""
    family, size = arch.split('_', 1) if '_' in arch else ('', arch)
    text = f'{family[-1:].upper()}-{size.upper()}' if family else arch
    if weights:
        text += f' {weights}'
    if input_size != 224:
        text += f' {input_size}'
    return text


def _overlaps(box, boxes) -> bool:
    return any(box.overlaps(other) for other in boxes)


def _label_front(ax, front: Sequence[Point], taken: list) -> None:
    """Label the front's points: of the places beside a point (right or
    left of it, level or moved up or down by steps of a line), the nearest
    one inside the axes that overlaps no label placed before; a leader
    line joins a moved label to its point."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    places = [(side, step) for step in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5,
                                        6, -6, 8, -8, 10, -10)
              for side in (1, -1)]
    for point in front:
        for number, (side, step) in enumerate(places):
            text = ax.annotate(
                point.label, (point.cost, point.value),
                xytext=(6 * side + 10 * side * (step != 0), 10 * step),
                textcoords='offset points', fontsize=7, va='center',
                ha='left' if side > 0 else 'right',
                bbox=dict(boxstyle='square,pad=0.1', fc='white', ec='none',
                          alpha=0.75),
                arrowprops=dict(arrowstyle='-', lw=0.4, color='0.5')
                if step else None)
            box = text.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and \
                frame.y0 <= box.y0 and box.y1 <= frame.y1
            if (inside and not _overlaps(box, taken)) or \
                    number == len(places) - 1:
                taken.append(box)
                break
            text.remove()


def _log_axis(ax, costs: Sequence[float]) -> None:
    """Log x axis over at least a factor of 4, ticks at 1, 2 and 5 times
    the powers of ten, written as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    ax.set_xscale('log')
    low, high = min(costs), max(costs)
    middle, span = (low * high)**0.5, max((high / low)**0.5 * 1.3, 2.0)
    ax.set_xlim(middle / span, middle * span)
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f'{v:g}'))
    ax.xaxis.set_minor_formatter(NullFormatter())


def draw(panels: Dict[str, List[Point]], xlabel: str, ylabel: str,
         title: str, path_stem: str) -> List[str]:
    """Draw one panel per ``panels`` item (title -> points) side by side,
    x axis log-scaled; write ``path_stem.png`` and ``.svg`` (atomically:
    each written to a temporary name, then renamed). Returns the paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    count = max(1, len(panels))
    fig, axes = plt.subplots(1, count, figsize=(max(10, 6.4 * count), 7),
                             squeeze=False, sharey=True)
    publishers = set()
    for ax, (panel, points) in zip(axes[0], panels.items()):
        for publisher in sorted({p.publisher for p in points}):
            marker, colour = STYLES.get(publisher, STYLES[None])
            mine = [p for p in points if p.publisher == publisher]
            ax.scatter([p.cost for p in mine], [p.value for p in mine],
                       marker=marker, color=colour, s=22, alpha=0.8,
                       label=publisher, zorder=3)
            publishers.add(publisher)
        by_label = {p.label: (p.cost, p.value) for p in points}
        front = [next(p for p in points if p.label == label)
                 for label in pareto_front(by_label)]
        ax.step([p.cost for p in front], [p.value for p in front],
                where='post', color='0.2', lw=1, zorder=2,
                label='Pareto front')
        _log_axis(ax, [p.cost for p in points] or [1.0])
        ax.margins(y=0.08)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(True, which='both', lw=0.3, alpha=0.5)
        fig.canvas.draw()
        _label_front(ax, front, [])
    axes[0][0].set_ylabel(ylabel)
    handles, labels = axes[0][0].get_legend_handles_labels()
    axes[0][0].legend(handles, labels, fontsize=8, loc='best')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    paths = []
    for ext in ('png', 'svg'):
        path = f'{path_stem}.{ext}'
        partial = f'{path}.partial'
        fig.savefig(partial, format=ext, dpi=110,
                    metadata={'Date': None} if ext == 'svg' else None)
        os.replace(partial, path)
        paths.append(path)
    plt.close(fig)
    return paths


def pareto_figure(rows: Sequence[Dict[str, str]], path_stem: str,
                  note: str = '') -> List[str]:
    """Published top-1 against measured ms/image, one panel per precision,
    from ``zoo_benchmark.py`` results rows (of one machine, which the title
    names, with ``note``)."""
    precisions = list(dict.fromkeys(r['precision'] for r in rows))
    panels = {}
    for precision in precisions:
        batch, points, _ = measured_front(rows, precision)
        panels[f'{precision}, batch {batch}'] = [
            Point(short_label(r['arch'], r['weights'], int(r['input_size'])),
                  r['publisher'], *points[r['name']])
            for r in rows if r['precision'] == precision and
            int(r['batch']) == batch and r['name'] in points]
    return draw(panels, 'latency, ms per image (log scale)',
                'published ImageNet top-1 (%)',
                f'{where(rows[0])}{note}: deployed models, random weights',
                path_stem)


def where(row: Dict[str, str]) -> str:
    """The machine and settings of a results row, for titles."""
    threads = int(row['threads'])
    return (f'{row["cpu"]}, {threads} thread{"s" * (threads != 1)}, torch '
            f'{row["torch"]}, {row["rounds"]} rounds (median)')
