"""Named DSNN configurations used by the tests, the demo and benchmarks/dsnn.py.

* ``"reference"``: the float reference of research/dsnn.md section 2 -- logistic
  neurons, exact log-likelihood-ratio evidence, sigmoid conditional,
  asynchronous resampling, exact top-down term while training.
* ``"hardware"``: the form that lowers to the Gibbs-synapse program
  (:mod:`yuragi.plasticity.gibbs`) -- piecewise-linear neurons (``N = 4``),
  linearised midpoint evidence ``dw s_j (s_i - p_i) + nu dw^2 s_j (2c-1)/8``,
  hard-sigmoid conditional, synchronous resampling of every contact every 64
  steps, no top-down term (labels reach only the label synapses), and
  ``beta_hidden = 1`` so that every gain is expressible (``a <= 7``).
* ``"small"``: ``"hardware"`` with 300 hidden units (tests and ``make demo``).

Full-size runs use 1000 hidden units, 4 label copies per class,
``tau_s = 8000`` steps and ``p_s = 1/64`` per step.
"""

from __future__ import annotations

from ...errors import ModelError
from .float_model import DSNNConfig

__all__ = ["PRESETS", "TRAIN_EPOCHS", "preset"]

_COMMON = dict(label_copies=4, tau_s=8000.0, beta=3.0, rho=0.5, sweeps=2, batch=32, infer_steps=100)
_HARDWARE = dict(activation="pwl", noise_width=4.0, evidence="linear_midpoint", midpoint_nu=0.75, resample_prob="hard",
                 resample_period=64, p_resample=1.0, topdown="none", beta_hidden=1.0)
_REFERENCE = dict(activation="logistic", evidence="exact", resample_prob="sigmoid", resample_period=1, p_resample=1.0 / 64,
                  topdown="exact")

PRESETS: dict[str, DSNNConfig] = {
    "reference": DSNNConfig(n_hidden=1000, **_COMMON, **_REFERENCE),
    "hardware": DSNNConfig(n_hidden=1000, **_COMMON, **_HARDWARE),
    "small": DSNNConfig(n_hidden=300, **_COMMON, **_HARDWARE),
}

#: Training length of the benchmark runs, in passes over the 1257 training digits.
TRAIN_EPOCHS = 12


def preset(name: str, **overrides: object) -> DSNNConfig:
    """The preset ``name`` with ``overrides`` applied (ModelError naming the presets if unknown)."""
    if name not in PRESETS:
        raise ModelError(f"unknown DSNN preset '{name}' (presets: {', '.join(PRESETS)})")
    return PRESETS[name].replace(**overrides) if overrides else PRESETS[name]
