//! PyNN's spike generators that run procedurally (`gammastim.mod`: a `while` loop of Marsaglia-Tsang draws;
//! `poisson_stim_refractory.mod`: `exprand` in NET_RECEIVE), unchanged from PyNN 0.13.0, as the spike
//! sources of a cell: their intervals against the distributions the files draw from (Kolmogorov-Smirnov
//! distance to the analytic distribution function, and the moments). rall's random streams are not NEURON's,
//! so the comparison is with the distribution, not with NEURON's spike times.
//! `#[ignore]`d for a plain `cargo test` (needs the corpus, fetched by `.ci/run`).

use crate::common;

use rall::Simulation;
use rall::mechanism::Catalogue;
use rall::model::load_model;

/// The intervals between the spikes of one generator [ms], run for `t_stop_ms`.
fn intervals(file: &str, mechanism: &str, parameters: &str, t_stop_ms: f64) -> Vec<f64> {
    let source = common::corpus().join("pynn-0.13.0/pyNN/neuron/nmodl").join(file);
    let dir = std::env::temp_dir().join(format!("rall-generator-{mechanism}"));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        r#"
mod_files = ["{}"]
[simulation]
t_stop = {t_stop_ms}
dt = 0.025
[morphology]
cylinder = [{{ length = 10.0, diameter = 10.0, tag = 1 }}]
[[mechanism]]
name = "pas"
region = "(all)"
[[synapse]]
at = "(location 0 0.5)"
mechanism = "{mechanism}"
parameters = {{ {parameters} }}
[[detector]]
synapse = 0
"#,
        source.display()
    );
    std::fs::write(dir.join("model.toml"), text).unwrap();
    let model = load_model(&dir.join("model.toml"), &Catalogue::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::single(&model.cells[0].1, &model.catalogue).unwrap();
    let spikes = sim.run(&model.options, |_| {}).unwrap().spikes;
    let times: Vec<f64> = spikes.iter().map(|s| s.t_ms).collect();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// The largest distance between the empirical distribution function of `samples` and `cdf`.
fn kolmogorov_smirnov(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut x = samples.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    x.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let f = cdf(xi);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

fn mean_and_variance(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (mean, x.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0))
}

/// The 1 % critical value of the Kolmogorov-Smirnov distance for `n` samples (1.63/√n).
fn ks_limit(n: usize) -> f64 {
    1.63 / (n as f64).sqrt()
}

#[test]
#[ignore = "needs the corpus (validation/corpus/fetch.sh, run by `bash .ci/run`), then `cargo test -- --include-ignored`"]
fn pynns_gamma_generator_draws_gamma_intervals() {
    // Shape 3, rate 0.1/ms: mean 30 ms, variance 300 ms², CDF 1 − e^(−βx)(1 + βx + (βx)²/2).
    let (alpha, beta) = (3.0, 0.1);
    let isi = intervals(
        "gammastim.mod",
        "GammaStim",
        &format!("alpha = {alpha}, beta = {beta}, start = 0.0, duration = 1e9"),
        60_000.0,
    );
    let n = isi.len();
    let (mean, variance) = mean_and_variance(&isi);
    let d = kolmogorov_smirnov(&isi, |x| {
        let y = beta * x;
        1.0 - (-y).exp() * (1.0 + y + y * y / 2.0)
    });
    println!(
        "GammaStim (alpha 3, beta 0.1/ms): {n} intervals, mean {mean:.2} ms (30), variance {variance:.1} ms² \
         (300), KS distance {d:.4} (1% critical value {:.4})",
        ks_limit(n)
    );
    assert!(n > 1800, "{n} intervals in 60 s");
    // Standard errors for ~2000 intervals: mean 0.39 ms, variance 300·√((2 + 6/α)/n) = 13 ms²; limits 5 of each.
    // Measured: 2011 intervals, mean 29.82 ms, variance 295.2 ms², KS distance 0.0130 (critical 0.0363).
    assert!((mean - 30.0).abs() < 1.95, "{mean}");
    assert!((variance - 300.0).abs() < 67.0, "{variance}");
    assert!(d < ks_limit(n), "{d}");
}

#[test]
#[ignore = "needs the corpus (validation/corpus/fetch.sh, run by `bash .ci/run`), then `cargo test -- --include-ignored`"]
fn pynns_refractory_poisson_generator_keeps_its_dead_time_and_its_rate() {
    // 40 Hz with 5 ms dead time: intervals are 5 ms plus an exponential of mean 25 − 5 = 20 ms.
    let (rate_hz, refractory_ms) = (40.0, 5.0);
    let isi = intervals(
        "poisson_stim_refractory.mod",
        "PoissonStimRefractory",
        &format!("rate = {rate_hz}, tau_refrac = {refractory_ms}, start = 0.0, duration = 1e9"),
        60_000.0,
    );
    let n = isi.len();
    let shortest = isi.iter().copied().fold(f64::INFINITY, f64::min);
    let (mean, variance) = mean_and_variance(&isi);
    let scale = 1000.0 / rate_hz - refractory_ms;
    let d = kolmogorov_smirnov(&isi, |x| {
        if x < refractory_ms {
            0.0
        } else {
            1.0 - (-(x - refractory_ms) / scale).exp()
        }
    });
    println!(
        "PoissonStimRefractory (40 Hz, 5 ms): {n} intervals, shortest {shortest:.4} ms, mean {mean:.2} ms (25), \
         variance {variance:.1} ms² (400), KS distance {d:.4} (1% critical value {:.4})",
        ks_limit(n)
    );
    assert!(n > 2200, "{n} intervals in 60 s");
    // The dead time holds to round-off (event times are sums of doubles).
    assert!(shortest >= refractory_ms - 1e-9, "{shortest}");
    // Standard errors for ~2400 intervals: mean 0.41 ms, variance 400·√(8/n) = 23 ms²; limits 5 of each.
    // Measured: 2432 intervals, shortest 5.0151 ms, mean 24.67 ms, variance 372.1 ms², KS distance 0.0133
    // (critical 0.0331).
    assert!((mean - 25.0).abs() < 2.05, "{mean}");
    assert!((variance - 400.0).abs() < 115.0, "{variance}");
    assert!(d < ks_limit(n), "{d}");
}
