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
* ``"small"``: ``"hardware"`` with 300 hidden units (tests).
* ``"loihi"``: what the compiled Gibbs-synapse program can learn on the chip
  (``make demo``, ``yuragi train dsnn``). The program's 9-bit evidence tag
  saturates at ``beta L = +-2`` (docs/plasticity.md), so the float model runs
  with ``saturate=True``; the label synapses use the smallest useful gain
  ``2**(LOIHI_LABEL_GAIN_EXPONENT - 7)`` per contact step (``a = 2``: an
  evidence range of +-64 events; ``beta = gain / dw``, recomputed from the
  final sizes); the input->hidden contacts do not learn (with a saturated tag
  they drift to noise; without saturation the ``"hardware"`` form locks them
  in their initial state anyway, see docs/models/dsnn.md); 10 label copies
  per class and ``midpoint_nu = 1`` make the noisier bounded-evidence
  readout stable.

Full-size runs use 1000 hidden units, 4 label copies per class,
``tau_s = 8000`` steps and ``p_s = 1/64`` per step.
"""

from __future__ import annotations

import math

from ...errors import ModelError
from .float_model import DSNNConfig

__all__ = ["LOIHI_LABEL_GAIN_EXPONENT", "PRESETS", "TRAIN_EPOCHS", "loihi_label_beta", "preset"]

#: ``a`` of the label synapses' Gibbs program in the ``"loihi"`` preset: gain ``2**(a - 7)`` per contact step.
LOIHI_LABEL_GAIN_EXPONENT = 2

_COMMON = dict(label_copies=4, tau_s=8000.0, beta=3.0, rho=0.5, sweeps=2, batch=32, infer_steps=100)
_HARDWARE = dict(activation="pwl", noise_width=4.0, evidence="linear_midpoint", midpoint_nu=0.75, resample_prob="hard",
                 resample_period=64, p_resample=1.0, topdown="none", beta_hidden=1.0)
_REFERENCE = dict(activation="logistic", evidence="exact", resample_prob="sigmoid", resample_period=1, p_resample=1.0 / 64,
                  topdown="exact")


def loihi_label_beta(config: DSNNConfig, exponent: int = LOIHI_LABEL_GAIN_EXPONENT) -> float:
    """``beta`` of the label synapses whose gain per contact step is ``2**(exponent - 7)``.

    The contact step is ``dw = 2 g / K`` with ``g = gain_label / sqrt(n_hidden + 1)``.
    """
    dw = 2.0 * config.gain_label / math.sqrt(config.n_hidden + 1) / config.contacts
    return 2.0 ** (exponent - 7) / dw


PRESETS: dict[str, DSNNConfig] = {
    "reference": DSNNConfig(n_hidden=1000, **_COMMON, **_REFERENCE),
    "hardware": DSNNConfig(n_hidden=1000, **_COMMON, **_HARDWARE),
    "small": DSNNConfig(n_hidden=300, **_COMMON, **_HARDWARE),
    "loihi": DSNNConfig(n_hidden=300, **{**_COMMON, "label_copies": 10}, **{**_HARDWARE, "midpoint_nu": 1.0},
                        saturate=True, plastic_hidden=False),
}

PRESETS["loihi"] = PRESETS["loihi"].replace(beta=loihi_label_beta(PRESETS["loihi"]))

#: Training length of the benchmark runs, in passes over the 1257 training digits.
TRAIN_EPOCHS = 12


def preset(name: str, **overrides: object) -> DSNNConfig:
    """The preset ``name`` with ``overrides`` applied (ModelError naming the presets if unknown).

    For ``"loihi"``, ``beta`` follows the final sizes (:func:`loihi_label_beta`) unless overridden.
    """
    if name not in PRESETS:
        raise ModelError(f"unknown DSNN preset '{name}' (presets: {', '.join(PRESETS)})")
    config = PRESETS[name].replace(**overrides) if overrides else PRESETS[name]
    if name == "loihi" and "beta" not in overrides:
        config = config.replace(beta=loihi_label_beta(config))
    return config
