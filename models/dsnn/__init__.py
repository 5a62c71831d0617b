"""The dual sampling neural network (Teramae & Tsubo 2022), reconstructed: see docs/models/dsnn.md.

* :mod:`.data`: digits (or any pixel array) as Bernoulli spike probabilities;
* :mod:`.float_model`: the float reference network, trained by Gibbs sampling of its synapses;
* :mod:`.configs`: the named presets (``reference``, ``hardware``, ``small``);
* :mod:`.analysis`: accuracy curves, stability under synaptic turnover,
  cross-validated PCA spectra with a power-law exponent, SGD and frozen controls;
* :mod:`.network`: the IR :class:`~yuragi.ir.Network` of a DSNN, for the compiler and backends.
"""

from .data import Dataset, load_digits_split, make_dataset
from .float_model import DSNN, DSNNConfig

__all__ = ["DSNN", "DSNNConfig", "Dataset", "load_digits_split", "make_dataset"]
