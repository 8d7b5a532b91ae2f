//! Artificial spike sources: a description (regular, Poisson with a seed, NEURON's NetStim, explicit times
//! or VecStim, a CSV file) in, the sorted spike times up to a stop time out.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// A source of spikes that is not a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum SpikeSource {
    /// Spikes at `start, start + interval, ...` while `< stop` [ms].
    Regular {
        start_ms: f64,
        interval_ms: f64,
        stop_ms: f64,
    },
    /// A Poisson process of `rate_hz` on `[start, stop)` [ms]; the same seed gives the same train.
    Poisson {
        rate_hz: f64,
        start_ms: f64,
        stop_ms: f64,
        seed: u64,
    },
    /// NEURON's NetStim (`netstim.mod`) with its parameters and rules: `number` spikes (the count rounded up),
    /// the first at `start + noise · interval · E₀` (E₀ exponential of mean 1; no earlier than 0), then intervals
    /// `(1 - noise) · interval + noise · interval · E` (exactly `interval` without noise); none when
    /// `start < 0`. Noise is clamped to [0, 1] and an interval ≤ 0 is 0.01 ms, as NetStim does. The draws
    /// come from a seeded stream of rall's (NEURON's Random123 stream is not reproduced), so noisy trains have
    /// NetStim's statistics, not its spike times.
    NetStim {
        interval_ms: f64,
        number: f64,
        start_ms: f64,
        noise: f64,
        seed: u64,
    },
    /// Explicit spike times [ms] (NEURON's VecStim playing a vector).
    Times(Vec<f64>),
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}: {message}")]
pub struct SourceError {
    pub file: String,
    pub message: String,
}

impl SpikeSource {
    /// The spike times up to `t_stop_ms` (inclusive), sorted.
    pub fn times(&self, t_stop_ms: f64) -> Vec<f64> {
        match *self {
            SpikeSource::Regular {
                start_ms,
                interval_ms,
                stop_ms,
            } => {
                let end = stop_ms.min(t_stop_ms + 1e-9);
                let mut out = Vec::new();
                if interval_ms > 0.0 {
                    let mut k = 0.0;
                    while start_ms + k * interval_ms < end {
                        out.push(start_ms + k * interval_ms);
                        k += 1.0;
                    }
                }
                out
            }
            SpikeSource::Poisson {
                rate_hz,
                start_ms,
                stop_ms,
                seed,
            } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let (end, rate_per_ms) = (stop_ms.min(t_stop_ms + 1e-9), rate_hz / 1000.0);
                let mut out = Vec::new();
                let mut t = start_ms;
                if rate_per_ms > 0.0 {
                    loop {
                        let u: f64 = rng.random::<f64>();
                        t += -(1.0 - u).ln() / rate_per_ms;
                        if t >= end {
                            break;
                        }
                        out.push(t);
                    }
                }
                out
            }
            SpikeSource::NetStim {
                interval_ms,
                number,
                start_ms,
                noise,
                seed,
            } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let noise = noise.clamp(0.0, 1.0);
                let mean = if interval_ms <= 0.0 { 0.01 } else { interval_ms };
                let mut interval = || {
                    if noise == 0.0 {
                        mean
                    } else {
                        let u: f64 = rng.random::<f64>();
                        (1.0 - noise) * mean + noise * mean * -(1.0 - u).ln()
                    }
                };
                let mut out = Vec::new();
                if start_ms >= 0.0 && number > 0.0 {
                    // INITIAL: the first spike; then one more per spike while fewer than `number` were sent.
                    let mut t = (start_ms + interval() - interval_ms * (1.0 - noise)).max(0.0);
                    let mut sent = 0.0;
                    while sent < number && t <= t_stop_ms + 1e-9 {
                        out.push(t);
                        sent += 1.0;
                        t += interval();
                    }
                }
                out
            }
            SpikeSource::Times(ref times) => {
                let mut out: Vec<f64> = times.iter().copied().filter(|&t| t <= t_stop_ms).collect();
                out.sort_by(f64::total_cmp);
                out
            }
        }
    }

    /// Spike times from a CSV file: one time [ms] per line (a header line is skipped), or, with `gid_column`,
    /// lines `t,gid` of which those with that gid are kept (as `rall run --spikes` writes them).
    pub fn from_csv(path: &Path, gid: Option<usize>) -> Result<Self, SourceError> {
        let file = path.display().to_string();
        let text = crate::read_text(path).map_err(|e| SourceError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        let mut times = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.iter().all(|f| f.is_empty()) {
                continue;
            }
            let Ok(t) = fields[0].parse::<f64>() else {
                if i == 0 {
                    continue; // header
                }
                return Err(SourceError {
                    file: format!("{file}:{}", i + 1),
                    message: format!("expected a spike time in ms, found `{}`", fields[0]),
                });
            };
            if !t.is_finite() {
                return Err(SourceError {
                    file: format!("{file}:{}", i + 1),
                    message: format!("spike time `{}` is not finite", fields[0]),
                });
            }
            match (gid, fields.get(1)) {
                (None, _) => times.push(t),
                (Some(g), Some(f)) => {
                    let this: usize = f.parse().map_err(|_| SourceError {
                        file: format!("{file}:{}", i + 1),
                        message: format!("expected a gid in the second column, found `{f}`"),
                    })?;
                    if this == g {
                        times.push(t);
                    }
                }
                (Some(_), None) => {
                    return Err(SourceError {
                        file: format!("{file}:{}", i + 1),
                        message: "expected `t,gid`".into(),
                    });
                }
            }
        }
        Ok(SpikeSource::Times(times))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_give_the_trains_they_describe() {
        let regular = SpikeSource::Regular {
            start_ms: 5.0,
            interval_ms: 10.0,
            stop_ms: 40.0,
        };
        assert_eq!(regular.times(1000.0), vec![5.0, 15.0, 25.0, 35.0]);
        let poisson = |seed| SpikeSource::Poisson {
            rate_hz: 20.0,
            start_ms: 0.0,
            stop_ms: 1e5,
            seed,
        };
        let train = poisson(4).times(1e5);
        // 2000 expected, standard deviation about 45.
        assert!((train.len() as f64 - 2000.0).abs() < 180.0, "{}", train.len());
        // Exponential intervals: their coefficient of variation is 1.
        let isi: Vec<f64> = train.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = isi.iter().sum::<f64>() / isi.len() as f64;
        let sd = (isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64).sqrt();
        assert!((sd / mean - 1.0).abs() < 0.1, "CV {}", sd / mean);
        assert_eq!(train, poisson(4).times(1e5), "seeded");
        assert_ne!(train, poisson(5).times(1e5));
        let dir = std::env::temp_dir().join(format!("rall-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("spikes.csv");
        std::fs::write(&file, "t,gid,cell\n3.5,1,a\n1.0,0,b\n2.0,1,a\n").unwrap();
        assert_eq!(
            SpikeSource::from_csv(&file, Some(1)).unwrap().times(10.0),
            vec![2.0, 3.5]
        );
        std::fs::write(&file, "t\n1.0\nabc\n").unwrap();
        let e = SpikeSource::from_csv(&file, None).unwrap_err();
        assert!(e.file.ends_with("spikes.csv:3") && e.message.contains("`abc`"), "{e}");
    }
}
