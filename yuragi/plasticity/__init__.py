"""Ready plasticity programs, the Gibbs synapse, and its float reference (docs/plasticity.md).

* :mod:`.programs`: :func:`stdp` (pair-based, Lava's ``STDPLoihi`` form) and
  :func:`rstdp` (reward-modulated, Lava's ``RewardModulatedSTDP`` form);
* :mod:`.gibbs`: :func:`gibbs_synapse`, the Gibbs synapse of the dual
  sampling network as a learning-engine program; :func:`gibbs_parameters`
  (float hyperparameters to the nearest expressible integers) and
  :func:`gibbs_projections` (adds Gibbs synapses to a NetworkBuilder);
* :mod:`.reference`: float simulators of the exact and the small-Delta rule;
* :mod:`.fixedpoint_runs`: the program on the integer engine
  (:mod:`yuragi.fixedpoint`) in plain loops, for the statistical tests;
* :mod:`.teacher_student`: the teacher-student test as an IR network (a
  clamped StochasticBinary output, arrival-timed Gibbs synapses), compiled
  and run on the emulator.
"""

from .gibbs import GibbsFloat, GibbsParameters, gibbs_parameters, gibbs_projections, gibbs_synapse, tag_conditional
from .programs import expressible_scale, rstdp, stdp

__all__ = [
    "GibbsFloat",
    "GibbsParameters",
    "expressible_scale",
    "gibbs_parameters",
    "gibbs_projections",
    "gibbs_synapse",
    "rstdp",
    "stdp",
    "tag_conditional",
]
