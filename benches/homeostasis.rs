//! Speed of online homeostatic control: the noise-driven hh cell of examples/homeostasis.toml and the
//! 10-cell network of examples/network_homeostasis.toml, with and without their controllers, against a
//! hand-written peer in this file (the reference program of homeostasis.md: one compartment, hh + OU
//! drive + rate sensor + low-passed voltage, forward-mode sensitivities to 3 parameters, the controller).
//!
//! Prints wall milliseconds per simulated second and simulated seconds per wall second.
//! Run with `cargo bench -p rall --bench homeostasis` (one thread: RAYON_NUM_THREADS=1 for the cell).

// Index loops over the three lanes read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use rall::mechanism::Catalogue;
use rall::model::{Model, load_model};
use rall::{RunOptions, Simulation};
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::path::PathBuf;
use std::time::Instant;

const SIMULATED_MS: f64 = 20_000.0;

fn model(name: &str) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    load_model(&path, &Catalogue::default()).unwrap()
}

/// Wall seconds of one run of `model` for SIMULATED_MS, best of two.
fn rall_seconds(model: &Model, controlled: bool) -> f64 {
    let options = RunOptions {
        t_stop_ms: SIMULATED_MS,
        sample_interval_ms: 100.0,
        ..model.options
    };
    let mut best = f64::INFINITY;
    for _ in 0..2 {
        let mut sim = match &model.network {
            Some(n) => Simulation::network(n, &model.catalogue).unwrap(),
            None => Simulation::new(&model.cells, &model.catalogue).unwrap(),
        };
        if controlled {
            sim.enable_homeostasis(&model.cells, &model.catalogue, model.homeostasis.as_ref().unwrap())
                .unwrap();
        }
        let start = Instant::now();
        std::hint::black_box(sim.run(&options, |_| {}).unwrap());
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// A number with its derivatives with respect to the 3 controlled multipliers (forward mode).
#[derive(Clone, Copy, Debug)]
struct D {
    v: f64,
    d: [f64; 3],
}

impl D {
    fn c(v: f64) -> Self {
        D { v, d: [0.0; 3] }
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        D {
            v: e,
            d: self.d.map(|x| x * e),
        }
    }
    fn atan2(self, x: D) -> Self {
        let r2 = x.v * x.v + self.v * self.v;
        let mut d = [0.0; 3];
        for k in 0..3 {
            d[k] = (x.v * self.d[k] - self.v * x.d[k]) / r2;
        }
        D {
            v: self.v.atan2(x.v),
            d,
        }
    }
}

macro_rules! binary {
    ($t:ident, $f:ident, $v:expr, $d:expr) => {
        impl $t for D {
            type Output = D;
            fn $f(self, o: D) -> D {
                let (a, b) = (self, o);
                let mut d = [0.0; 3];
                for k in 0..3 {
                    d[k] = $d(a.v, a.d[k], b.v, b.d[k]);
                }
                D { v: $v(a.v, b.v), d }
            }
        }
    };
}
binary!(Add, add, |a, b| a + b, |_, da, _, db| da + db);
binary!(Sub, sub, |a, b| a - b, |_, da, _, db| da - db);
binary!(Mul, mul, |a, b| a * b, |a, da, b, db| da * b + a * db);
binary!(Div, div, |a: f64, b: f64| a / b, |a: f64, da: f64, b: f64, db: f64| (da
    * b
    - a * db)
    / (b * b));

impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D {
            v: -self.v,
            d: self.d.map(|x| -x),
        }
    }
}

fn vtrap(x: D, y: f64) -> D {
    if (x.v / y).abs() < 1e-6 {
        D::c(y) * (D::c(1.0) - x / D::c(2.0 * y))
    } else {
        x / ((x / D::c(y)).exp() - D::c(1.0))
    }
}

/// The peer: the same model and controller written out by hand, exact discrete sensitivities by dual numbers.
fn reference_seconds(controlled: bool) -> (f64, f64) {
    let dt = 0.025;
    let steps = (SIMULATED_MS / dt) as usize;
    let (mut v, mut m, mut h, mut n) = (D::c(-65.0), D::c(0.0529), D::c(0.5961), D::c(0.3177));
    let (mut u, mut f, mut g) = (D::c(0.0), D::c(0.0), D::c(-65.0));
    let (mut mult, mut grad) = ([1.0f64; 3], [0.0f64; 3]);
    let (alpha, lambda, target, tau_f, tau_g) = (1e-6, 1e-4, 2.0, 10_000.0, 10_000.0);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut normal = || {
        // xorshift + Box-Muller: cheap and good enough for a timing peer.
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (u1, u2) = (next().max(1e-300), next());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut spikes = 0usize;
    let start = Instant::now();
    for _ in 0..steps {
        // Parameters with their seeds: d(value)/d(multiplier) = initial value.
        let seeded = |value: f64, k: usize| {
            let mut d = [0.0; 3];
            d[k] = value;
            D { v: value * mult[k], d }
        };
        let (gna, gk, gain) = (seeded(0.12, 0), seeded(0.036, 1), seeded(0.03, 2));
        // Currents at V (mA/cm2) and their exact dI/dV; one backward-Euler step of C dV/dt = -I.
        let (ena, ek, el, gl) = (50.0, -77.0, -54.3, 0.0003);
        let m3h = m * m * m * h;
        let n4 = n * n * n * n;
        let drive = D::c(-0.001) * gain * u * u * u * u;
        let i = gna * m3h * (v - D::c(ena)) + gk * n4 * (v - D::c(ek)) + D::c(gl) * (v - D::c(el)) + drive;
        let didv = gna * m3h + gk * n4 + D::c(gl);
        let c = D::c(1e-3 / dt); // 1 µF/cm2 in mA/cm2 per mV/ms
        let v_new = v - i / (c + didv);
        // Gates (cnexp) at the new V; the sensor sweeps the (m, h) angle over the step.
        let (x0, y0) = (m - D::c(0.4), h - D::c(0.2));
        let a = D::c(0.1) * vtrap(-(v_new + D::c(40.0)), 10.0);
        let b = D::c(4.0) * (-(v_new + D::c(65.0)) / D::c(18.0)).exp();
        m = m + (a / (a + b) - m) * (D::c(1.0) - (-(a + b) * D::c(dt)).exp());
        let a = D::c(0.07) * (-(v_new + D::c(65.0)) / D::c(20.0)).exp();
        let b = D::c(1.0) / ((-(v_new + D::c(35.0)) / D::c(10.0)).exp() + D::c(1.0));
        h = h + (a / (a + b) - h) * (D::c(1.0) - (-(a + b) * D::c(dt)).exp());
        let a = D::c(0.01) * vtrap(-(v_new + D::c(55.0)), 10.0);
        let b = D::c(0.125) * (-(v_new + D::c(65.0)) / D::c(80.0)).exp();
        n = n + (a / (a + b) - n) * (D::c(1.0) - (-(a + b) * D::c(dt)).exp());
        let (x1, y1) = (m - D::c(0.4), h - D::c(0.2));
        let dphi = (x0 * y1 - y0 * x1).atan2(x0 * x1 + y0 * y1);
        let rate = -dphi * D::c(1000.0 / (std::f64::consts::TAU * dt));
        f = f + (rate - f) * D::c(dt / tau_f);
        g = g + (v_new - g) * D::c(dt / tau_g);
        u = u + D::c(-0.1 * dt) * u + D::c(0.7 * dt.sqrt() * normal());
        if v.v <= -10.0 && v_new.v > -10.0 {
            spikes += 1;
        }
        v = v_new;
        if controlled {
            let error = f.v - target;
            let decay = (-lambda * dt).exp();
            for k in 0..3 {
                grad[k] = decay * grad[k] + dt * error * g.d[k];
            }
            let norm = grad.iter().map(|x| x * x).sum::<f64>().sqrt();
            let scale = if norm > 1.0 { 1.0 / norm } else { 1.0 };
            for k in 0..3 {
                mult[k] = (mult[k] - dt * alpha * scale * grad[k]).max(0.0);
            }
        }
    }
    std::hint::black_box((v, f, g, mult));
    (start.elapsed().as_secs_f64(), spikes as f64 / (SIMULATED_MS / 1000.0))
}

fn line(name: &str, seconds: f64, cells: usize) {
    let per = 1000.0 * seconds / (SIMULATED_MS / 1000.0);
    println!(
        "{name:<44} {per:>8.2} ms per simulated s ({:>6.2} simulated s per wall s; {:.2} ms per cell-second)",
        SIMULATED_MS / 1000.0 / seconds,
        per / cells as f64
    );
}

fn main() {
    println!("{} s simulated at dt 0.025 ms, best of two", SIMULATED_MS / 1000.0);
    let (peer_plain, rate) = reference_seconds(false);
    let (peer, _) = reference_seconds(true);
    line("hand-written peer, sensitivities, no control", peer_plain, 1);
    line("hand-written peer, controlled", peer, 1);
    println!("  (the peer's untuned rate: {rate:.2} Hz)");
    let cell = model("homeostasis.toml");
    let plain = rall_seconds(&cell, false);
    let controlled = rall_seconds(&cell, true);
    line("rall cell, plain", plain, 1);
    line("rall cell, controlled", controlled, 1);
    println!(
        "  controller / plain: {:.2}x; rall controlled / peer controlled: {:.2}x",
        controlled / plain,
        controlled / peer
    );
    let network = model("network_homeostasis.toml");
    let plain = rall_seconds(&network, false);
    let controlled = rall_seconds(&network, true);
    line("rall 10-cell network, plain", plain, 10);
    line("rall 10-cell network, controlled", controlled, 10);
    println!(
        "  controller / plain: {:.2}x; rall controlled / ten peers controlled: {:.2}x (cells of one kind run as a cell group)",
        controlled / plain,
        controlled / (10.0 * peer)
    );
}
