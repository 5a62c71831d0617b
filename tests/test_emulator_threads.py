"""The emulator's multi-threaded numba loop: parts that no core straddles, and the same run bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from yuragi.backends import emulator as em
from yuragi.backends.emulator.synthetic import random_network
from yuragi.backends.emulator.threads import plan
from yuragi.compiler.compiled import SIGN_EXCITATORY, CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from yuragi.errors import BackendError
from yuragi.ir import Probe
from yuragi.ir.neurons import RasterInput

from test_backend_emulator import SUITE, SUITE_IDS, assert_same_run, run_cached

pytestmark = pytest.mark.skipif(not em.HAVE_NUMBA, reason="the threaded loop is numba's")


def _check_plan(prog, tp) -> None:
    """Every part's synapses and destination cores lie in the part's own neurons and cores."""
    neuron_cut = prog.seg_start[tp.seg_split]
    core = prog.core_of[:prog.n_lif]
    part_of_core = {}
    for k in range(tp.parts):
        for c in np.unique(core[neuron_cut[k]:neuron_cut[k + 1]]):
            assert part_of_core.setdefault(int(c), k) == k, f"core {c} straddles a cut"
    post = prog.syn_post.astype(np.int64)
    for gi in range(prog.g_lo.size):
        assert tp.g_split[gi, 0] == prog.g_lo[gi] and tp.g_split[gi, -1] == prog.g_hi[gi]
        for k in range(tp.parts):
            p = post[tp.g_split[gi, k]:tp.g_split[gi, k + 1]]
            assert ((p >= neuron_cut[k]) & (p < neuron_cut[k + 1])).all()
    for n in range(prog.n_total):
        for k in range(tp.parts):
            for c in prog.dc_core[tp.dc_split[n, k]:tp.dc_split[n, k + 1]]:
                assert part_of_core[int(c)] == k


def test_plan_cuts_between_cores_and_balances_work():
    c = random_network(3000, p=0.05, rate_hz=30.0, seed=2, max_delay=3)  # cores: exc 0-2 (1024, 1024, 352), inh 3 (600)
    prog = em.prepare(c)
    tp = plan(prog, 2)
    assert tp.parts == 2
    _check_plan(prog, tp)
    # core boundaries at neurons 1024, 2048, 2400; every neuron receives about as many synapses (~160),
    # so half the work is near neuron 1500, and 1024 is the nearest boundary (476 away; 2048 is 548)
    assert int(prog.seg_start[tp.seg_split[1]]) == 1024
    tp3 = plan(prog, 3)
    assert tp3.parts == 3
    _check_plan(prog, tp3)
    one = plan(prog, 1)
    assert one.parts == 1 and one.g_split.shape[1] == 2
    assert np.array_equal(one.g_split[:, 0], prog.g_lo) and np.array_equal(one.dc_split[:, 1], prog.dc_indptr[1:])


def test_plan_without_a_clean_cut_is_one_part():
    """Cores interleaved by population (core 0 holds the start of both): no cut keeps parts' cores apart."""
    c = random_network(200, seed=1)
    blocks = (CoreBlock("exc", 0, 80, core=0, chip=0), CoreBlock("exc", 80, 160, core=1, chip=0), CoreBlock("inh", 0, 40, core=0, chip=0))
    c = dataclasses.replace(c, blocks=blocks)
    assert plan(em.prepare(c), 2).parts == 1


def test_plan_with_cores_numbered_out_of_order_after_the_cut():
    """Right of the cut the first neuron sits on core 3, a later one on core 2: the destination-core
    split must use the lowest core (2), or core 2's synaptic-op counters would belong to the left part."""
    c = random_network(200, p=0.2, rate_hz=60.0, seed=4)
    blocks = (CoreBlock("exc", 0, 160, core=0, chip=0), CoreBlock("inh", 0, 20, core=3, chip=0), CoreBlock("inh", 20, 40, core=2, chip=0))
    c = dataclasses.replace(c, blocks=blocks)
    prog = em.prepare(c)
    tp = plan(prog, 2)
    assert tp.parts == 2 and int(prog.seg_start[tp.seg_split[1]]) == 160
    _check_plan(prog, tp)
    assert_same_run(em.run(prog, 300, threads=2), em.run(prog, 300, threads=1))


@pytest.mark.parametrize("i", range(len(SUITE)), ids=SUITE_IDS)
def test_threads_equal_one_thread(i):
    _, c, ext = SUITE[i]
    prog = em.prepare(c)
    assert_same_run(em.run(prog, 1000, inputs=ext, threads=2), run_cached(i, "numba"))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_thread_count_is_a_backend_error(bad):
    with pytest.raises(BackendError, match="threads must be a whole number >= 1"):
        em.run(SUITE[0][1], 5, threads=bad)


def test_suite_runs_on_several_parts():
    """The test above is not vacuous: most suite networks really split."""
    parts = {name: plan(em.prepare(c), 2).parts for name, c, _ in SUITE}
    assert sum(p == 2 for p in parts.values()) >= 3, parts


def test_three_parts_with_delays_probes_and_chunks():
    c = random_network(3000, p=0.05, rate_hz=40.0, seed=5, max_delay=4, probe_v=True)
    prog = em.prepare(c)
    one = em.run(prog, 400, threads=1)
    assert one.spikes["exc"].count > 1000
    assert_same_run(em.run(prog, 400, threads=3), one)
    assert_same_run(em.run(prog, 400, threads=2, progress=True), one)  # run in chunks of 4 steps
    assert prog.thread_plans[3].parts == 3


def test_event_buffer_growth_with_threads():
    """The loop stops before a step when the event buffer is full: pending spikes are delivered first."""
    size = 70000  # initial buffer: max(2 * n, 65536) events
    raster = np.zeros((3, size), bool)
    raster[0] = raster[2] = True
    lif = dict(kind="LIF", du=4095, dv=0, vth=10, refractory=0)
    pops = (
        CompiledPopulation(name="src", kind="RasterInput", size=size, source=RasterInput(raster=raster, loop=True)),
        CompiledPopulation(name="a", size=4, **lif),
        CompiledPopulation(name="b", size=4, **lif),
    )
    rng = np.random.default_rng(0)
    pre = np.sort(rng.choice(size, 400, replace=False))
    projs = tuple(
        CompiledProjection(f"src->{t}", "src", t, size, 4, pre, rng.integers(0, 4, pre.size), np.full(pre.size, 9), 1 + (t == "b"),
                           num_weight_bits=8, weight_exp=0, sign_mode=SIGN_EXCITATORY, dense=False)
        for t in ("a", "b")
    )
    blocks = (CoreBlock("a", 0, 4, core=0, chip=0), CoreBlock("b", 0, 4, core=1, chip=0))
    probes = tuple(Probe(p, "spikes") for p in ("src", "a", "b")) + (Probe("a", "v"), Probe("b", "u"))
    c = CompiledNetwork("grow2", "loihi2", 1.0, 0, pops, projs, blocks=blocks, probes=probes)
    prog = em.prepare(c)
    one = em.run(prog, 8, threads=1)
    assert one.spikes["src"].count == 5 * size and one.spikes["b"].count > 0  # steps 0, 2, 3, 5, 6: the buffer grows twice
    two = em.run(prog, 8, threads=2)
    assert prog.thread_plans[2].parts == 2
    assert_same_run(two, one)


def test_threads_leave_the_start_method_to_lava():
    """numba's thread pool reads (and so fixes) multiprocessing's start method; the emulator releases it,
    so that Lava, imported afterwards, can set its own (lava-nc 0.10.0 raises otherwise)."""
    import subprocess
    import sys

    script = (
        "import multiprocessing\n"
        "from yuragi.backends import emulator as em\n"
        "from yuragi.backends.emulator.synthetic import random_network\n"
        "assert em.run(random_network(3000, seed=1), 20, threads=2).meta['threads'] == 2\n"
        "assert multiprocessing.get_start_method(allow_none=True) is None\n"
        "import lava.magma.runtime.runtime\n"
        "print('ok', multiprocessing.get_start_method())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "ok fork", out.stderr[-2000:]


def test_counters_are_int32_and_a_count_that_does_not_fit_is_named():
    """Per-step counters are COUNTER_DTYPE (int32: half the memory of int64); a count beyond it is a BackendError."""
    from yuragi.backends.counters import COUNTER_DTYPE, as_counter_array

    assert COUNTER_DTYPE == np.int32
    res = em.run(random_network(3000, seed=1), 20, threads=2)
    assert all(v.dtype == np.int32 for v in res.counters.values())
    assert as_counter_array(np.array([[5, 2**31 - 1]], dtype=np.int64), "spikes").dtype == np.int32
    with pytest.raises(BackendError, match="counter 'synaptic_ops' holds 2147483648"):
        as_counter_array(np.array([[0, 2**31]], dtype=np.int64), "synaptic_ops")
