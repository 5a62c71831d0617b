"""PNG plots a person would rather look at than a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .backends.result import RunResult


def raster_plot(result: RunResult, path: str | Path, max_neurons: int = 400) -> Path:
    """Spike raster of every population (stacked, at most ``max_neurons`` each), time in ms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result.spikes)
    fig, ax = plt.subplots(figsize=(9.0, 1.0 + 0.6 * len(names) + 0.004 * sum(min(result.spikes[n].size, max_neurons) for n in names)))
    offset = 0
    ticks, labels = [], []
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(names):
        ev = result.spikes[name]
        keep = ev.neurons < max_neurons
        ax.scatter(ev.steps[keep] * result.dt, ev.neurons[keep] + offset, s=1.5, color=colours[k % len(colours)], marker="|")
        shown = min(ev.size, max_neurons)
        ticks.append(offset + shown / 2)
        labels.append(f"{name} ({ev.count} spikes)")
        offset += shown + max(2, shown // 20)
    ax.set_yticks(ticks, labels)
    ax.set_xlim(0, result.steps * result.dt)
    ax.set_xlabel("time (ms)")
    ax.set_title(f"{result.network} on {result.backend}: {result.steps} steps")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def rates_table_rows(result: RunResult) -> list[tuple[str, int, int, float]]:
    """(population, size, spikes, rate Hz) per population."""
    rates = result.rates_hz()
    return [(n, ev.size, ev.count, float(np.round(rates[n], 3))) for n, ev in result.spikes.items()]
