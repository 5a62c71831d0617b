"""`make demo`: the end-to-end run on a built-in model.

Each stage prints what it did; files go to the folder the user names.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from .errors import YuragiError


def run_demo(out_dir: Path, console: Console) -> None:
    """Build the example network, save it, load it back, validate and summarise it."""
    from .cli import network_summary_tables
    from .ir import load_network, save_network
    from .models import builtin_model

    out_dir.mkdir(parents=True, exist_ok=True)
    console.rule("1. build the built-in 'ei_balanced' network")
    net = builtin_model("ei_balanced")
    console.print(f"{net.n_neurons} neurons, {net.n_synapses} synapses, {len(net.projections)} projections")

    console.rule("2. save to .yrg and load it back")
    path = out_dir / "ei_balanced.yrg"
    save_network(net, path, overwrite=True)
    loaded = load_network(path)
    if loaded != net:
        raise YuragiError(f"{path}: round trip changed the network")
    console.print(f"saved {path} ({path.stat().st_size} bytes); loaded copy equals the original")

    console.rule("3. validate and summarise")
    for table in network_summary_tables(loaded):
        console.print(table)
