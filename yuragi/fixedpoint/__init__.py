"""Reference integer semantics of yuragi's stochastic and learning elements.

These pure numpy functions *are* the specification (docs/plasticity.md) of
what every fixed-point backend computes for the parts Lava has no
bit-accurate model of: the learning engine with per-synapse counter-based
random numbers (:mod:`.learning`), stochastic binary neurons and stochastic
synaptic release (:mod:`.stochastic`). The Lava backend's custom process
models and the emulator call them; the Brian2 Loihi-exact mode implements
the same arithmetic independently in Brian2 code, so ``yuragi verify``
checks them against each other.
"""

from .learning import (
    LearningState,
    LoweredProgram,
    LoweredTrace,
    apply_rules,
    decimation_active,
    epoch_due,
    init_learning_state,
    lower_program,
    trace_step,
)
from .stochastic import probability7, release_mask, stochastic_binary_spikes

__all__ = [
    "LearningState",
    "LoweredProgram",
    "LoweredTrace",
    "apply_rules",
    "decimation_active",
    "epoch_due",
    "init_learning_state",
    "lower_program",
    "probability7",
    "release_mask",
    "stochastic_binary_spikes",
    "trace_step",
]
