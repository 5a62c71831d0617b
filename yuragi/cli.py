"""The ``yuragi`` command line.

Every user error is one line on stderr and exit status 2 (``--debug`` shows
the traceback). Commands that take a FILE also take a built-in model name.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .backends import FIXED_POINT_BACKENDS, FLOAT_BACKENDS  # names only: backends load lazily
from .errors import YuragiError

# Piped output (make demo, CI logs) gets 120 columns rather than rich's default 80.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


def load_model_or_file(source: str, model_args: dict[str, Any] | None = None) -> Any:
    """A Network from a ``.yrg`` path or a built-in model name (built with ``model_args``)."""
    from .ir import load_network
    from .models import BUILTIN_MODELS, builtin_model

    if source in BUILTIN_MODELS:
        return builtin_model(source, **(model_args or {}))
    if model_args:
        raise YuragiError(f"model options ({', '.join(sorted(model_args))}) apply to built-in models only, not to '{source}'")
    path = Path(source)
    if path.exists() or path.suffix == ".yrg":
        return load_network(path)
    raise YuragiError(f"'{source}' is neither a file nor a built-in model (built-in: {', '.join(BUILTIN_MODELS)})")


def network_summary_tables(net: Any) -> list[Table]:
    """Rich tables of a network's populations and projections."""
    pops = Table(title=f"network '{net.name}'  dt={net.dt} ms  seed={net.seed}")
    for col in ("population", "model", "size", "probes"):
        pops.add_column(col)
    for p in net.populations:
        probes = ", ".join(pr.variable for pr in net.probes if pr.target == p.name)
        pops.add_row(p.name, type(p.model).__name__, str(p.size), probes)
    projs = Table(title="projections")
    for col in ("projection", "storage", "synapses", "delay", "p_release", "plastic"):
        projs.add_column(col)
    for p in net.projections:
        delays = str(int(p.delays)) if p.delays.ndim == 0 else f"{int(p.delays.min())}..{int(p.delays.max())}"
        projs.add_row(
            p.name if p.name == f"{p.pre}->{p.post}" else f"{p.name} ({p.pre}->{p.post})",
            "sparse" if p.is_sparse else "dense", str(p.n_synapses),
            delays, f"{p.release_prob:g}", "yes" if p.plasticity is not None else "-",
        )
    return [pops, projs]


def network_summary_json(net: Any) -> dict:
    """A JSON-safe summary of a network."""
    return {
        "name": net.name,
        "dt_ms": net.dt,
        "seed": net.seed,
        "neurons": net.n_neurons,
        "synapses": net.n_synapses,
        "populations": [{"name": p.name, "model": type(p.model).__name__, "size": p.size} for p in net.populations],
        "projections": [
            {"name": p.name, "pre": p.pre, "post": p.post, "sparse": p.is_sparse, "synapses": p.n_synapses, "plastic": p.plasticity is not None}
            for p in net.projections
        ],
        "probes": [p.key for p in net.probes],
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="yuragi")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """yuragi: describe a spiking network once; compile it to Loihi, verify it in Brian2, profile its energy."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(as_json: bool) -> None:
    """Versions of yuragi, Lava and Brian2, and the hardware profiles available."""
    from .hw_profiles import available_profiles

    data = {
        "yuragi": __version__,
        "lava-nc": _version("lava-nc"),
        "brian2": _version("brian2"),
        "numpy": _version("numpy"),
        "python": sys.version.split()[0],
        "hardware_profiles": available_profiles(),
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title="yuragi")
    table.add_column("component")
    table.add_column("version / value")
    for key, value in data.items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    console.print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(as_json: bool) -> None:
    """List the built-in models (usable wherever a FILE is expected)."""
    from .models import BUILTIN_MODELS

    if as_json:
        click.echo(json.dumps([{"name": m.name, "description": m.description} for m in BUILTIN_MODELS.values()], indent=2))
        return
    table = Table(title="built-in models")
    table.add_column("name")
    table.add_column("description")
    for m in BUILTIN_MODELS.values():
        table.add_row(m.name, m.description)
    console.print(table)


@cli.command()
@click.argument("model")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .yrg file.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def export(model: str, output: str, force: bool) -> None:
    """Save built-in MODEL as a .yrg model file."""
    from .ir import save_network
    from .models import builtin_model

    net = builtin_model(model)
    path = save_network(net, output, overwrite=force)
    console.print(f"wrote {path} ({net.n_neurons} neurons, {net.n_synapses} synapses)")


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of tables.")
def validate(source: str, as_json: bool) -> None:
    """Check a .yrg FILE (or built-in model); print its populations and projections.

    Exit status 0 when valid; 2 with one line per problem when not.
    """
    net = load_model_or_file(source)
    if as_json:
        click.echo(json.dumps({"valid": True, **network_summary_json(net)}, indent=2))
        return
    for table in network_summary_tables(net):
        console.print(table)
    console.print(f"[green]valid[/green]: {net.n_neurons} neurons, {net.n_synapses} synapses")


def _parse_assignments(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``("a=1", "b=2")`` -> ``{"a": "1", "b": "2"}``; a malformed item is a one-line error."""
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise YuragiError(f"{option} expects NAME=VALUE, got '{item}'")
        out[name] = value
    return out


def _refuse_existing(paths: list[Path], force: bool) -> None:
    for path in paths:
        if path.exists() and not force:
            raise YuragiError(f"{path} exists; refusing to overwrite it (use --force)")


@cli.command(name="compile")
@click.argument("source")
@click.option("--profile", default="loihi2", show_default=True, help="loihi1, loihi2 or a path to a .toml hardware profile.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Compiled program to write (.yrc); report.json goes beside it.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Where to write report.json (default: OUTPUT with .report.json).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG of per-core utilisation.")
@click.option("--allow-emulated", is_flag=True, help="Accept features the target cannot run (marked 'emulated only').")
@click.option("--weight-bits", multiple=True, metavar="PROJ=BITS", help="Weight mantissa bits for one projection (repeatable).")
@click.option("--placement", type=click.Choice(["graph", "sequential"]), default="graph", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of tables.")
def compile_cmd(source: str, profile: str, output: str | None, report_path: str | None, plot_path: str | None, allow_emulated: bool, weight_bits: tuple[str, ...], placement: str, force: bool, as_json: bool) -> None:
    """Compile a .yrg FILE or built-in MODEL for a Loihi hardware profile.

    Prints cores used vs the lower bound, utilisation per resource,
    quantization errors and native / microcode / emulated features.
    """
    from .compiler import compile_network, save_compiled

    bits = {}
    for name, value in _parse_assignments(weight_bits, "--weight-bits").items():
        if not value.isdigit():
            raise YuragiError(f"--weight-bits {name}={value}: BITS must be an integer")
        bits[name] = int(value)
    targets = []
    if output:
        out = Path(output)
        targets.append(out)
        report_file = Path(report_path) if report_path else out.with_suffix(".report.json")
    else:
        report_file = Path(report_path) if report_path else None
    if report_file:
        targets.append(report_file)
    if plot_path:
        targets.append(Path(plot_path))
    _refuse_existing(targets, force)
    net = load_model_or_file(source)
    compiled, report = compile_network(net, profile, allow_emulated=allow_emulated, weight_bits=bits or None, placement=placement)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=1))
    else:
        report.print(console)
    if output:
        save_compiled(compiled, output, overwrite=force)
    if report_file:
        report_file.write_text(json.dumps(report.to_dict(), indent=1))
    if plot_path:
        report.plot(plot_path)
    if not as_json:
        written = [str(p) for p in targets]
        if written:
            console.print(f"wrote {', '.join(written)}")


def load_program(source: str, profile: str, allow_emulated: bool = False, model_args: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """(Network or None, CompiledNetwork) from a .yrc, a .yrg or a built-in model name (built with ``model_args``)."""
    from .compiler import compile_network, load_compiled

    if source.endswith(".yrc"):
        if model_args:
            raise YuragiError(f"model options ({', '.join(sorted(model_args))}) apply to built-in models only, not to '{source}'")
        return None, load_compiled(source)
    net = load_model_or_file(source, model_args)
    compiled, _ = compile_network(net, profile, allow_emulated=allow_emulated)
    return net, compiled


def _load_inputs(items: tuple[str, ...]) -> dict[str, Any]:
    import numpy as np

    out = {}
    for name, file in _parse_assignments(items, "--input").items():
        try:
            out[name] = np.load(file, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise YuragiError(f"--input {name}={file}: cannot read a .npy array ({exc})") from None
    return out


def run_backend(backend: str, net: Any, compiled: Any, steps: int, inputs: dict, progress: bool = True) -> Any:
    """Run one backend by name ('brian2-float' runs the IR network itself)."""
    from .backends import get_backend

    if backend == "brian2-float":
        if net is None:
            raise YuragiError("--backend brian2-float needs the model (.yrg or built-in name), not a compiled .yrc")
        return get_backend("brian2").run_float(net, steps, inputs=inputs, progress=progress)
    return get_backend(backend).run(compiled, steps, inputs=inputs, progress=progress)


BACKEND_CHOICE = click.Choice([*FIXED_POINT_BACKENDS, *FLOAT_BACKENDS])
FIXED_POINT_CHOICE = click.Choice(list(FIXED_POINT_BACKENDS))


def _synfire_args(source: str, neuron: str | None, packet_a: int | None, packet_sigma: float | None, gate_rate: float | None, seed: int | None) -> dict[str, Any]:
    """Builder arguments from the model options of ``run`` (the synfire ones only for 'synfire')."""
    given = {"--neuron": neuron, "--packet-a": packet_a, "--packet-sigma": packet_sigma, "--gate-rate": gate_rate}
    used = [name for name, value in given.items() if value is not None]
    if used and source != "synfire":
        raise YuragiError(f"{', '.join(used)}: only for the built-in model 'synfire', not for '{source}'")
    args: dict[str, Any] = {} if seed is None else {"seed": seed}
    for key, value in (("neuron", neuron), ("a", packet_a), ("sigma_in", packet_sigma), ("gate_rate_hz", gate_rate)):
        if value is not None:
            args[key] = value
    return args


@cli.command()
@click.argument("source")
@click.option("--backend", type=BACKEND_CHOICE, default="emulator", show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Steps to run  [default: 1000; synfire: the whole chain]")
@click.option("--profile", default="loihi2", show_default=True, help="Hardware profile to compile for (ignored for .yrc).")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npy", help="Spikes (steps x size, 0/1) of an ExternalInput population.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the RunResult (.npz: .npy arrays + result.json).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a raster plot PNG.")
@click.option("--allow-emulated", is_flag=True, help="Compile features the target cannot run (emulated only).")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=None, help="Seed of a built-in model  [default: the model's]")
@click.option("--neuron", type=click.Choice(["lif", "eif"]), default=None, help="synfire: chain neuron model  [default: lif]")
@click.option("--packet-a", type=click.IntRange(min=0), default=None, help="synfire: spikes in the input pulse packet  [default: 85]")
@click.option("--packet-sigma", type=click.FloatRange(min=0), default=None, help="synfire: temporal spread of the input packet, ms  [default: 1]")
@click.option("--gate-rate", type=click.FloatRange(min=0), default=None, help="synfire: rate of each inhibitory gate neuron nu_G, Hz  [default: 0, no gate]")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--json", "as_json", is_flag=True, help="Print rates and counter totals as JSON.")
def run(source: str, backend: str, steps: int | None, profile: str, inputs: tuple[str, ...], output: str | None, plot_path: str | None, allow_emulated: bool, seed: int | None, neuron: str | None, packet_a: int | None, packet_sigma: float | None, gate_rate: float | None, force: bool, as_json: bool) -> None:
    """Run a .yrg/.yrc FILE or built-in MODEL on a backend.

    For the built-in 'synfire' chain, --neuron, --packet-a, --packet-sigma
    and --gate-rate set the model, and the packet (a, sigma) of every group
    is printed.
    """
    from .plots import raster_plot, rates_table_rows

    _refuse_existing([Path(p) for p in (output, plot_path) if p], force)
    synfire = source == "synfire"
    net, compiled = load_program(source, profile, allow_emulated, _synfire_args(source, neuron, packet_a, packet_sigma, gate_rate, seed))
    if steps is None:
        if synfire:
            from .models.synfire import chain_steps

            steps = chain_steps()
        else:
            steps = 1000
    result = run_backend(backend, net, compiled, steps, _load_inputs(inputs), progress=not as_json)
    packets = None
    if synfire:
        from .models.synfire import chain_packets

        packets = chain_packets(result)
    if output:
        result.save(output, overwrite=force)
    if plot_path:
        if synfire:
            from .models.synfire.plots import chain_raster

            chain_raster(result, plot_path, packets=packets)
        else:
            raster_plot(result, plot_path)
    if as_json:
        doc = {
            "network": result.network, "backend": result.backend, "steps": result.steps,
            "rates_hz": result.rates_hz(), "counters": {k: result.total(k) for k in result.counters},
        }
        if packets is not None:
            doc["packets"] = {**packets.to_dict(), "survived": packets.survived, "passes": packets.passes()}
        click.echo(json.dumps(doc, indent=1))
        return
    if packets is not None:
        _print_packets(packets)
    table = Table(title=f"{result.network} on {result.backend}, {steps} steps")
    for col in ("population", "size", "spikes", "rate (Hz)"):
        table.add_column(col, justify="right" if col != "population" else "left")
    for name, size, count, rate in rates_table_rows(result):
        table.add_row(name, str(size), str(count), f"{rate:.2f}")
    console.print(table)
    if result.counters:
        console.print("op counters: " + ", ".join(f"{k}={result.total(k)}" for k in result.counters))
    written = [p for p in (output, plot_path) if p]
    if written:
        console.print(f"wrote {', '.join(written)}")


def _print_packets(packets: Any) -> None:
    """Table of the per-group packet (a, sigma) of a synfire run."""
    t = Table(title="synfire packet per group (a: spikes within +-5 ms of the centre; sigma: their s.d.)")
    for col in ("group", "a", "sigma (ms)", "centre (ms)"):
        t.add_column(col, justify="right")
    for k in range(len(packets.a)):
        sig, cen = packets.sigma[k], packets.centre[k]
        t.add_row(str(k + 1), str(int(packets.a[k])), "-" if sig != sig else f"{sig:.2f}", "-" if cen != cen else f"{cen:.1f}")
    console.print(t)
    verdict = "reaches" if packets.survived else "does not reach"
    console.print(f"the packet {verdict} the last group (a >= 50); issue #10 target (a >= 80, sigma < 1 ms): {'met' if packets.passes() else 'not met'}")


@cli.command()
@click.argument("source")
@click.option("--backend", type=FIXED_POINT_CHOICE, default="lava", show_default=True, help="Backend under test.")
@click.option("--against", type=FIXED_POINT_CHOICE, default="brian2", show_default=True, help="Reference backend.")
@click.option("--steps", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--profile", default="loihi2", show_default=True)
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npy")
@click.option("--float", "with_float", is_flag=True, help="Also compare with the Brian2 float reference (statistics).")
@click.option("--rate-tol", type=click.FloatRange(min=0), default=0.1, show_default=True, help="Allowed relative rate error vs float.")
@click.option("--coinc-min", type=float, default=0.0, show_default=True, help="Smallest allowed coincidence factor vs float.")
@click.option("--window", type=click.IntRange(min=0), default=2, show_default=True, help="Coincidence window, steps.")
@click.option("--json", "as_json", is_flag=True)
def verify(source: str, backend: str, against: str, steps: int, profile: str, inputs: tuple[str, ...], with_float: bool, rate_tol: float, coinc_min: float, window: int, as_json: bool) -> None:
    """Run two backends on the same compiled program; exit 0 only if they agree bit for bit.

    With --float, also compare with the float reference: per-population rate
    error and spike-time coincidence within the given tolerances.
    """
    from .verify import compare_exact, compare_statistical

    if backend == against:
        raise YuragiError("--backend and --against must differ")
    net, compiled = load_program(source, profile)
    given = _load_inputs(inputs)
    a = run_backend(backend, net, compiled, steps, given, progress=not as_json)
    b = run_backend(against, net, compiled, steps, given, progress=not as_json)
    verdict = compare_exact(a, b)
    stat = None
    if with_float:
        ref = run_backend("brian2-float", net, compiled, steps, given, progress=not as_json)
        stat = compare_statistical(ref, a, rate_tolerance=rate_tol, coincidence_min=coinc_min, window_steps=window)
    ok = verdict.equal and (stat is None or stat.ok)
    if as_json:
        click.echo(json.dumps({"ok": ok, "exact": verdict.to_dict(), "float": stat.to_dict() if stat else None}, indent=1))
    else:
        style = "green" if verdict.equal else "red"
        console.print(f"[{style}]{verdict.summary()}[/{style}]", soft_wrap=True)
        if stat is not None:
            t = Table(title=f"{a.backend} vs float reference (rate tolerance {rate_tol}, coincidence window {window} steps)")
            for col in ("population", "float (Hz)", "fixed (Hz)", "rate error", "coincidence"):
                t.add_column(col, justify="right" if col != "population" else "left")
            for p in stat.populations:
                t.add_row(p.population, f"{p.rate_ref_hz:.2f}", f"{p.rate_test_hz:.2f}", f"{p.rate_error:.3f}", f"{p.coincidence:.3f}")
            console.print(t)
            for line in stat.failures:
                console.print(f"[red]{line}[/red]", soft_wrap=True)
    if not ok:
        sys.exit(1)


def _fmt_j(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(x) >= scale:
            return f"{x / scale:.4g} {unit}"
    return f"{x / 1e-15:.4g} fJ" if x else "0 J"


@cli.command()
@click.argument("source")
@click.option("--profile", default="loihi2", show_default=True, help="Hardware profile to price with (and compile for): loihi1, loihi2 or a .toml path.")
@click.option("--compare", help="Comma-separated profiles priced side by side, e.g. loihi1,loihi2 (overrides --profile).")
@click.option("--steps", type=click.IntRange(min=1), default=1000, show_default=True, help="Steps to run on the emulator (model/.yrg/.yrc sources).")
@click.option("--program", type=click.Path(dir_okay=False), help="The compiled .yrc a saved RunResult (.npz) was run from.")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Samples/inferences the run is a batch of.")
@click.option("--input", "inputs", multiple=True, metavar="POP=FILE.npy", help="Spikes (steps x size, 0/1) of an ExternalInput population.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG: stacked bar of dynamic energy by op class per core.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the report(s) as JSON.")
@click.option("--allow-emulated", is_flag=True, help="Compile features the target cannot run (emulated only).")
@click.option("--rate-scale", help="Comma-separated factors for every Poisson input rate (e.g. 0.25,0.5,1,2): one run each, plotted with --activity-plot.")
@click.option("--activity-plot", "activity_path", type=click.Path(dir_okay=False), help="Write a PNG of energy per sample vs spikes per step over the --rate-scale runs.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def profile(source: str, profile: str, compare: str | None, steps: int, program: str | None, samples: int, inputs: tuple[str, ...], plot_path: str | None, json_path: str | None, allow_emulated: bool, rate_scale: str | None, activity_path: str | None, force: bool) -> None:
    """Energy of a run: a .yrg/.yrc FILE or MODEL (run on the emulator) or a saved RUN (.npz, with --program)."""
    from .backends.result import RunResult
    from .compiler import load_compiled
    from .energy import OP_CLASSES, activity_plot, energy_plot, profile_energy

    _refuse_existing([Path(p) for p in (plot_path, json_path, activity_path) if p], force)
    if activity_path and not rate_scale:
        raise YuragiError("--activity-plot needs --rate-scale, e.g. --rate-scale 0.25,0.5,1,2")
    if rate_scale:
        if source.endswith((".npz", ".yrc")):
            raise YuragiError("--rate-scale needs the model (.yrg or a built-in name): it rebuilds the network with scaled input rates")
        try:
            factors = [float(f) for f in rate_scale.split(",") if f.strip()]
        except ValueError:
            raise YuragiError(f"--rate-scale expects comma-separated numbers, got '{rate_scale}'") from None
        sweep = [_profile_scaled(source, factor, profile, steps, samples, allow_emulated) for factor in factors]
        for factor, rep in zip(factors, sweep):
            console.print(f"rate x{factor:g}: {rep.total_spikes / rep.steps:.2f} spikes/step, "
                          f"{_fmt_j(rep.energy_per_sample_j)} per sample (dynamic {_fmt_j(rep.dynamic_j / rep.samples)})")
        if activity_path:
            activity_plot(sweep, activity_path)
            console.print(f"wrote {activity_path}")
    names = [p.strip() for p in compare.split(",") if p.strip()] if compare else [profile]
    if not names:
        raise YuragiError("--compare: give at least one profile, e.g. loihi1,loihi2")
    reports = []
    if source.endswith(".npz"):
        if not program:
            raise YuragiError(f"{source} is a saved run; give the compiled program it ran with (--program FILE.yrc)")
        result, compiled = RunResult.load(source), load_compiled(program)
        reports = [profile_energy(result, compiled, name, samples) for name in names]
    else:
        loaded = _load_inputs(inputs)
        for name in names:
            net, compiled = load_program(source, name, allow_emulated)
            result = run_backend("emulator", net, compiled, steps, loaded, progress=False)
            reports.append(profile_energy(result, compiled, name, samples))

    table = Table(title=f"energy of {reports[0].network}, {reports[0].steps} steps" + (f", {samples} samples" if samples > 1 else ""))
    table.add_column("op class")
    for rep in reports:
        table.add_column(f"{rep.profile} count", justify="right")
        table.add_column(f"{rep.profile} energy", justify="right")
    for cls in OP_CLASSES:
        if any(rep.counts[cls] for rep in reports):
            row = [cls + ("  *" if any(cls in rep.depends_on_estimates and rep.depends_on_estimates[cls] for rep in reports) else "")]
            for rep in reports:
                row += [str(rep.counts[cls]), _fmt_j(rep.by_class[cls])]
            table.add_row(*row)
    rows = [
        ("dynamic", lambda r: _fmt_j(r.dynamic_j) + f" ({100 * r.dynamic_fraction:.1f}%)", "dynamic"),
        ("static (power x time)", lambda r: _fmt_j(r.static_j), "static"),
        ("total", lambda r: _fmt_j(r.total_j), None),
        ("time per step", lambda r: f"{r.time_per_step_s * 1e6:.3g} µs", "time"),
        ("chips / cores", lambda r: f"{r.chips} / {r.cores}", None),
        ("per spike", lambda r: _fmt_j(r.energy_per_spike_j), None),
        ("per synaptic op", lambda r: _fmt_j(r.energy_per_synop_j), None),
        ("per step", lambda r: _fmt_j(r.energy_per_step_j), None),
        ("per sample", lambda r: _fmt_j(r.energy_per_sample_j), None),
    ]
    table.add_section()
    for label, fn, dep in rows:
        star = "  *" if dep and any(rep.depends_on_estimates.get(dep) for rep in reports) else ""
        row = [label + star]
        for rep in reports:
            row += ["", fn(rep)]
        table.add_row(*row)
    table.add_section()
    for dev in ("cpu", "gpu"):
        row = [f"{dev.upper()} baseline (literature figure)"]
        for rep in reports:
            b = rep.baselines[dev]
            ratio = b["ratio_vs_total"]
            row += [f"{ratio:.3g}x" if ratio else "-", _fmt_j(b["energy_j"])]
        table.add_row(*row)
    console.print(table)
    console.print("* rests on estimated profile numbers. Baselines price the same synaptic ops at a literature CPU/GPU "
                  "energy per MAC (ratio = baseline / our total); they are not measurements of this workload.", soft_wrap=True)
    for rep in reports:
        if rep.estimated_inputs:
            console.print(f"{rep.profile}: estimated inputs used: {', '.join(rep.estimated_inputs)}", soft_wrap=True, markup=False)
        for note in rep.notes:
            console.print(f"{rep.profile}: note: {note}", soft_wrap=True, markup=False)
    if plot_path:
        energy_plot(reports, plot_path)
    if json_path:
        doc = {rep.profile: rep.to_dict() for rep in reports}
        Path(json_path).write_text(json.dumps(doc, indent=1))
    written = [p for p in (plot_path, json_path) if p]
    if written:
        console.print(f"wrote {', '.join(written)}")


def _profile_scaled(source: str, factor: float, profile: str, steps: int, samples: int, allow_emulated: bool) -> Any:
    """Energy report of ``source`` with every PoissonInput rate multiplied by ``factor`` (emulator run)."""
    import dataclasses

    from .compiler import compile_network
    from .energy import profile_energy
    from .ir import Network, PoissonInput

    net = load_model_or_file(source)
    populations = tuple(
        dataclasses.replace(p, model=PoissonInput(p.model.rate_hz * factor)) if isinstance(p.model, PoissonInput) else p
        for p in net.populations
    )
    scaled = Network(net.name, populations, net.projections, net.probes, net.dt, net.seed)
    compiled, _ = compile_network(scaled, profile, allow_emulated=allow_emulated)
    return profile_energy(run_backend("emulator", scaled, compiled, steps, {}, progress=False), compiled, profile, samples)


@cli.group()
def train() -> None:
    """Train a model on its data set (``yuragi train dsnn --help``)."""


@train.command(name="dsnn")
@click.option("--preset", "preset_name", default="loihi", show_default=True, help="DSNN preset: loihi, small, hardware or reference.")
@click.option("--backend", type=click.Choice(["emulator", "float"]), default="emulator", show_default=True,
              help="emulator: the compiled Gibbs-synapse program, online; float: the float model (batch mode).")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), default=6, show_default=True, help="Passes over the training digits.")
@click.option("--hidden", type=click.IntRange(min=1), default=None, help="Hidden units  [default: the preset's]")
@click.option("--infer-steps", type=click.IntRange(min=1), default=None, help="Steps per test digit  [default: the preset's, 100]")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0, show_default=True)
@click.option("--profile", default="loihi2", show_default=True, help="Hardware profile the programs are compiled for.")
@click.option("-o", "--out-dir", default="dsnn_out", show_default=True, type=click.Path(file_okay=False),
              help="Folder for dsnn.npz (checkpoint), dsnn.yrg (the trained free network), train.json and accuracy.png.")
@click.option("--force", is_flag=True, help="Overwrite files of an earlier run in OUT_DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def train_dsnn(preset_name: str, backend: str, epochs: float, hidden: int | None, infer_steps: int | None, seed: int, profile: str,
               out_dir: str, force: bool, as_json: bool) -> None:
    """Train the dual sampling network on scikit-learn's digits, then classify the test digits as a Loihi program.

    Prints the accuracy after every pass and the fixed-point accuracy of the
    compiled free network on the emulator (540 test digits, infer_steps each).
    """
    from .models.dsnn.command import run_train_dsnn

    overrides = {k: v for k, v in (("n_hidden", hidden), ("infer_steps", infer_steps)) if v is not None}
    summary = run_train_dsnn(preset_name, backend, epochs, overrides, seed, profile, Path(out_dir), force, console, quiet=as_json)
    if as_json:
        click.echo(json.dumps(summary, indent=1))


@cli.command()
@click.option("-o", "--out-dir", default="demo_out", show_default=True, type=click.Path(file_okay=False), help="Folder for the demo's files.")
@click.option("--model", type=click.Choice(["dsnn", "ei_balanced"]), default="dsnn", show_default=True,
              help="dsnn: train the dual sampling network on digits as a Loihi program (make demo); ei_balanced: the network flow.")
@click.option("--force", is_flag=True, help="Overwrite the files of an earlier demo run in OUT_DIR.")
def demo(out_dir: str, model: str, force: bool) -> None:
    """End-to-end demo on a built-in model (what `make demo` runs)."""
    from .demo import run_demo

    run_demo(Path(out_dir), console, model, force)


def _report_error(exc: YuragiError) -> None:
    """One line per problem on stderr (an error with a list of problems prints each)."""
    problems = getattr(exc, "problems", ())
    lines = list(problems) if len(problems) > 1 else [str(exc)]
    for line in lines:
        err_console.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``yuragi`` script: maps yuragi errors to one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="yuragi", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except YuragiError as exc:
        if debug:
            raise
        _report_error(exc)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":
    main()
