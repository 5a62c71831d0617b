"""yuragi: describe a spiking or stochastic network once, compile it to Loihi,
verify it bit for bit in Brian2, and profile its energy.

The IR lives in :mod:`yuragi.ir`; errors in :mod:`yuragi.errors`.
"""

__version__ = "0.1.0"
