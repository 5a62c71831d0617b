"""Write a network in a few lines, save it, load it back.

Run: .venv/bin/python examples/quickstart.py
"""

import numpy as np

from yuragi.ir import LIF, NetworkBuilder, PlasticityProgram, PoissonInput, Trace, load_network, save_network

rng = np.random.default_rng(0)
b = NetworkBuilder("quickstart", dt=1.0, seed=42)
stim = b.input("stim", 50, PoissonInput(rate_hz=[30.0]))                 # 50 Poisson sources, 30 Hz
exc = b.population("exc", 100, LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0, refractory=2))
stdp = PlasticityProgram(dw="2^-4*x1*y0 - 2^-4*y1*x0", x1=Trace(impulse=16, tau=10), y1=Trace(impulse=16, tau=10))
b.connect(stim, exc, weights=rng.uniform(0, 1.0, (100, 50)), plasticity=stdp)   # (n_post, n_pre), mV/ms
b.connect(exc, exc, weights=rng.normal(0, 0.3, (100, 100)) * (rng.random((100, 100)) < 0.1), delays=3)
b.probe(exc, "spikes")
b.probe(exc, "v")
net = b.build()                                                          # validates everything

path = save_network(net, "quickstart.yrg", overwrite=True)
assert load_network(path) == net
print(f"{net.name}: {net.n_neurons} neurons, {net.n_synapses} synapses -> {path}")
