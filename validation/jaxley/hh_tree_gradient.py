#!/usr/bin/env python3
"""Gradient of a soma-voltage loss of an HH tree w.r.t. gNa, gK and gLeak, with Jaxley.

The model is the one built by rall's `rall::zoo::hh_tree(10, 1.0)` (and by the
NEURON script in validation/neuron): a 1-compartment soma (20 um long, 20 um
diameter) with 10 dendrites (200 um long, 1 um diameter, 10 compartments each)
attached to the soma's distal end, HH everywhere, a 1 nA step current into
the soma from 10 ms on, backward Euler with dt = 0.025 ms for 200 ms.

Loss: L = 0.5 * mean_k (v_soma(t_k) - v_target(t_k))^2 over the 8001 samples
t_k = k * dt, k = 0..8000 (t = 0 included), with v_target(t) = -60 + 5 sin(t / 7).

The gradient is taken w.r.t. three multipliers (one per conductance, each
applied to every compartment) at 1: grad_multiplier[g] = g * dL/dg.

Prints one JSON object on stdout. See README.md beside this file.
"""

import argparse
import json
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxley as jx  # noqa: E402
from jaxley.channels import HH  # noqa: E402
from jaxley.channels import Channel  # noqa: E402

# ---------------------------------------------------------------- parameters
DT = 0.025  # ms
T_STOP = 200.0  # ms
N_STEPS = 8000  # round(T_STOP / DT)
N_DEND = 10
NCOMP_DEND = 10
SOMA_L, SOMA_DIAM = 20.0, 20.0  # um
DEND_L, DEND_DIAM = 200.0, 1.0  # um
RA = 100.0  # ohm cm
CM = 1.0  # uF / cm2
V_INIT = -65.0  # mV
I_AMP, I_DELAY = 1.0, 10.0  # nA, ms
G0 = {"gNa": 0.12, "gK": 0.036, "gLeak": 0.0003}  # S / cm2
E_REV = {"eNa": 50.0, "eK": -77.0, "eLeak": -54.3}  # mV
SPIKE_THRESHOLD = -20.0  # mV


# ------------------------------------------------ NEURON's hh, written for Jaxley
def _vtrap(x, y):
    """NEURON's hh vtrap: x / (exp(x/y) - 1), series y (1 - x/y/2) for |x/y| < 1e-6.

    Written with a safe denominator so that neither branch produces NaN (or a
    NaN gradient) at x = 0.
    """
    small = jnp.abs(x / y) < 1e-6
    denom = jnp.where(small, 1.0, jnp.exp(x / y) - 1.0)
    return jnp.where(small, y * (1.0 - x / y / 2.0), x / denom)


def _hh_rates(v):
    """alpha/beta of NEURON's hh at 6.3 degC (q10 factor 3^((6.3-6.3)/10) = 1)."""
    am = 0.1 * _vtrap(-(v + 40.0), 10.0)
    bm = 4.0 * jnp.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * jnp.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (jnp.exp(-(v + 35.0) / 10.0) + 1.0)
    an = 0.01 * _vtrap(-(v + 55.0), 10.0)
    bn = 0.125 * jnp.exp(-(v + 65.0) / 80.0)
    return (am, bm), (ah, bh), (an, bn)


class NeuronHH(Channel):
    """NEURON's built-in `hh` (and rall's mechanisms/hh.mod) at celsius = 6.3.

    Same parameter and state names as Jaxley's `HH` (prefix `HH_`), so the two
    can be swapped. The gates use cnexp's update,
    x <- x + (1 - exp(-dt/tau)) (xinf - x), evaluated at the voltage Jaxley
    passes to `update_states`.
    """

    def __init__(self, name=None):
        self.current_is_in_mA_per_cm2 = True
        super().__init__(name if name else "HH")
        p = self._name
        self.channel_params = {
            f"{p}_gNa": G0["gNa"],
            f"{p}_gK": G0["gK"],
            f"{p}_gLeak": G0["gLeak"],
            f"{p}_eNa": E_REV["eNa"],
            f"{p}_eK": E_REV["eK"],
            f"{p}_eLeak": E_REV["eLeak"],
        }
        self.channel_states = {f"{p}_m": 0.05, f"{p}_h": 0.6, f"{p}_n": 0.32}
        self.current_name = "i_HH"

    def update_states(self, states, dt, v, params):
        p = self._name
        new = {}
        for gate, (a, b) in zip("mhn", _hh_rates(v)):
            tau = 1.0 / (a + b)
            inf = a * tau
            x = states[f"{p}_{gate}"]
            new[f"{p}_{gate}"] = x + (1.0 - jnp.exp(-dt / tau)) * (inf - x)
        return new

    def compute_current(self, states, v, params):
        p = self._name
        m, h, n = states[f"{p}_m"], states[f"{p}_h"], states[f"{p}_n"]
        g_na = params[f"{p}_gNa"] * m * m * m * h
        g_k = params[f"{p}_gK"] * n * n * n * n
        return (
            g_na * (v - params[f"{p}_eNa"])
            + g_k * (v - params[f"{p}_eK"])
            + params[f"{p}_gLeak"] * (v - params[f"{p}_eLeak"])
        )  # mA / cm2

    def init_state(self, states, v, params, delta_t):
        p = self._name
        return {
            f"{p}_{gate}": a / (a + b) for gate, (a, b) in zip("mhn", _hh_rates(v))
        }


# ------------------------------------------------------------------ the model
def build_cell(channel: str):
    soma = jx.Branch(jx.Compartment(), ncomp=1)
    dend = jx.Branch(jx.Compartment(), ncomp=NCOMP_DEND)
    # parents: the soma is branch 0; every dendrite's start (comp 0, loc 0) is
    # attached to the soma's end (loc 1) through one shared branchpoint.
    cell = jx.Cell([soma] + [dend] * N_DEND, parents=[-1] + [0] * N_DEND)

    cell.branch(0).set("length", SOMA_L)  # per compartment
    cell.branch(0).set("radius", SOMA_DIAM / 2.0)
    for b in range(1, N_DEND + 1):
        cell.branch(b).set("length", DEND_L / NCOMP_DEND)
        cell.branch(b).set("radius", DEND_DIAM / 2.0)
    cell.set("axial_resistivity", RA)
    cell.set("capacitance", CM)

    cell.insert(HH() if channel == "jaxley" else NeuronHH())
    for k, v in {**G0, **E_REV}.items():
        cell.set(f"HH_{k}", v)

    cell.set("v", V_INIT)
    cell.init_states()  # gates at their steady state at v_init (NEURON's INITIAL)

    # Step current: externals[k] is used in the step t_k -> t_{k+1}. NEURON's
    # IClamp is evaluated at t_k + dt/2 and is on when that is >= delay, so the
    # first step with current is k = 400 (t_k = 10 ms).
    k0 = int(round(I_DELAY / DT))
    current = np.zeros(N_STEPS)
    current[k0:] = I_AMP
    cell.branch(0).comp(0).stimulate(jnp.asarray(current), verbose=False)
    cell.branch(0).comp(0).record("v", verbose=False)
    return cell


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--channel",
        choices=["jaxley", "neuron"],
        default="jaxley",
        help="jaxley: Jaxley's built-in HH channel (default); neuron: the "
        "NeuronHH channel in this file (NEURON's hh equations incl. vtrap's "
        "series near its singularity)",
    )
    ap.add_argument("--trace", help="write t,v_soma (all 8001 samples) as CSV here")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls (min taken)")
    args = ap.parse_args()

    cell = build_cell(args.channel)
    t = jnp.arange(N_STEPS + 1) * DT
    v_target = -60.0 + 5.0 * jnp.sin(t / 7.0)
    names = list(G0)

    def simulate(mult):
        pstate = None
        for i, name in enumerate(names):
            pstate = cell.data_set(f"HH_{name}", G0[name] * mult[i], pstate)
        v = jx.integrate(
            cell, param_state=pstate, delta_t=DT, t_max=T_STOP, solver="bwd_euler"
        )
        return v[0]  # soma voltage, N_STEPS + 1 samples, t = 0 .. 200 ms

    def loss_and_trace(mult):
        v = simulate(mult)
        return 0.5 * jnp.mean((v - v_target) ** 2), v

    forward = jax.jit(loss_and_trace)
    grad_fn = jax.jit(jax.value_and_grad(loss_and_trace, has_aux=True))
    ones = jnp.ones(len(names))

    def timed(fn):
        out = jax.block_until_ready(fn(ones))  # warm-up: compiles
        best = float("inf")
        for _ in range(max(1, args.repeats)):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(ones))
            best = min(best, time.perf_counter() - t0)
        return out, best

    (loss_fwd, v), sec_fwd = timed(forward)
    ((loss, v_g), grad), sec_grad = timed(grad_fn)

    v = np.asarray(v)
    if v.shape[0] != N_STEPS + 1:
        sys.exit(f"expected {N_STEPS + 1} samples, got {v.shape[0]}")
    # The two jitted programs are compiled separately, so their traces may
    # differ by rounding (~1e-12 mV); report it rather than hide it.
    fwd_vs_grad_trace = float(np.max(np.abs(np.asarray(v_g) - v)))
    spikes = int(np.sum((v[:-1] < SPIKE_THRESHOLD) & (v[1:] >= SPIKE_THRESHOLD)))
    grad = np.asarray(grad)

    if args.trace:
        np.savetxt(
            args.trace,
            np.column_stack([np.arange(N_STEPS + 1) * DT, v]),
            delimiter=",",
            header="t,soma",
            comments="",
            fmt="%.17g",
        )

    channel_note = (
        "Jaxley's built-in HH channel (NEURON hh rates at 6.3 degC, no q10 term; "
        "vtrap without NEURON's series guard, exp arguments clipped at 20)"
        if args.channel == "jaxley"
        else "custom NeuronHH channel: NEURON's hh equations incl. vtrap series "
        "guard, cnexp gate update, q10 = 1 at 6.3 degC"
    )
    out = {
        "tool": "jaxley",
        "version": {"jaxley": jx.__version__, "jax": jax.__version__},
        "channel": args.channel,
        "loss": float(loss),
        "loss_forward": float(loss_fwd),
        "max_abs_v_diff_forward_vs_gradient_run_mV": fwd_vs_grad_trace,
        "grad_multiplier": {n: float(grad[i]) for i, n in enumerate(names)},
        "grad_conductance": {n: float(grad[i] / G0[n]) for i, n in enumerate(names)},
        "spikes": spikes,
        "v_soma_mV": {f"{tt:g}": float(v[int(round(tt / DT))]) for tt in (50, 100, 150, 200)},
        "seconds_forward": sec_fwd,
        "seconds_gradient": sec_grad,
        "samples": int(v.shape[0]),
        "device": str(jax.devices()[0]),
        "notes": (
            f"{channel_note}. float64, solver bwd_euler, voltage solver jaxley.dhs "
            "(CPU). Soma 1 comp (L 20, diam 20 um), 10 dendrites x 10 comps "
            "(L 200, diam 1 um) on one branchpoint at soma loc 1 (zero-capacitance "
            "node, half-compartment resistances: NEURON's soma(1) node). "
            "Loss = 0.5*mean over the 8001 samples t = 0, 0.025, ..., 200 ms "
            "(t = 0 included) of (v_soma - (-60 + 5 sin(t/7)))^2. Current 1 nA "
            "on from the step starting at t = 10 ms (NEURON's IClamp at t+dt/2). "
            "grad_multiplier[g] = g * dL/dg = dL/dlog g; grad_conductance = "
            "dL/dg in mV^2 / (S/cm2). Timings: min of "
            f"{max(1, args.repeats)} jitted calls after a warm-up."
        ),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
