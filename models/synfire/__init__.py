"""Synfire chain of Diesmann, Gewaltig & Aertsen (1999), LIF or EIF, gated by weak inhibition (issue #10).

- :mod:`.params`: the paper's parameters and their lowering to the IR
  (alpha PSC -> exponential PSC, white noise -> bias + Poisson sources);
- :mod:`.network`: the chain and the one-layer-map networks;
- :mod:`.analysis`: per-group packet (a, sigma), survival, the layer map
  and its separatrix, the gate rate of 50 % survival;
- :mod:`.runs`: running on the float reference, the fixed-point backends
  (compiled for Loihi 1/2) or the paper's equations, and the sweeps;
- :mod:`.plots`: the PNGs of docs/models/synfire.md;
- :mod:`.paper`: the paper's equations in Brian2 (the unlowered model).
"""

from .analysis import LayerMap, PacketStats, chain_packets, fit_half_survival
from .network import layer_map_network, neuron_model, synfire_chain
from .params import SynfireParams, background_weight, peak_matched_tau_syn
from .runs import chain_steps, layer_map, run_chain, survival_sweep

__all__ = [
    "LayerMap",
    "PacketStats",
    "SynfireParams",
    "background_weight",
    "chain_packets",
    "chain_steps",
    "fit_half_survival",
    "layer_map",
    "layer_map_network",
    "neuron_model",
    "peak_matched_tau_syn",
    "run_chain",
    "survival_sweep",
    "synfire_chain",
]
