"""A PNG of FROC curves (matplotlib's Agg canvas; pyplot's global backend is left alone)."""
from typing import Dict, Sequence

import numpy as np


def plot_froc(curves: Dict[str, dict], path: str, rates: Sequence[float], title: str) -> None:
    """Draw each curve (``fppi``, ``sens``; the first one bold) as a staircase, x in log2 scale.

    ``curves`` maps a name to a dict with ``fppi``, ``sens``, ``cpm`` and ``lesions``; curves
    without a lesion are skipped. The read-out rates are marked on the x axis.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = min(rates) / 2, max(rates) * 2
    for i, (name, c) in enumerate(curves.items()):
        if c['lesions'] == 0:
            continue
        # extend the last operating point to the right edge: more predictions are not available
        x = np.clip(np.r_[c['fppi'], hi], lo, hi)
        y = np.r_[c['sens'], c['sens'][-1]]
        ax.step(x, y, where='post', linewidth=2.5 if i == 0 else 1.2,
                label=f"{name} (CPM {c['cpm']:.3f}, {c['lesions']} lesions)")
    ax.set_xscale('log', base=2)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(rates))
    ax.set_xticklabels([f'{r:g}' for r in rates])
    ax.set_xlabel('false positives per image')
    ax.set_ylabel('sensitivity (lesion-level)')
    ax.grid(True, which='major', alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc='lower right')
    fig.tight_layout()
    fig.savefig(path)
