//! Resource limits in (the environment variables `RALL_MAX_CVS` and `RALL_MAX_GIDS`, or their defaults), the
//! most CVs per cell and gids per process that a model file may ask for out: a typo such as a branch of 1e12 µm
//! or a population of 1e12 cells is refused at its key instead of exhausting memory.

use std::sync::OnceLock;

/// The default most CVs of one cell (L5PC has 1,399; a branch of 1e12 µm at 20 µm per CV would otherwise
/// allocate terabytes).
pub const DEFAULT_MAX_CVS: usize = 10_000_000;
/// The default most cells and spike sources in one process.
pub const DEFAULT_MAX_GIDS: usize = 1_000_000;

/// The most CVs one cell may have: `RALL_MAX_CVS`, else [`DEFAULT_MAX_CVS`].
pub fn max_cvs() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| from_environment("RALL_MAX_CVS", DEFAULT_MAX_CVS))
}

/// The most cells and spike sources one process may hold: `RALL_MAX_GIDS`, else [`DEFAULT_MAX_GIDS`].
pub fn max_gids() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| from_environment("RALL_MAX_GIDS", DEFAULT_MAX_GIDS))
}

/// A positive whole number from the environment (`1e8` and `100000000` alike), or the default with a warning
/// when the value is not one.
fn from_environment(name: &str, default: usize) -> usize {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    match parse_count(&text) {
        Some(n) => n,
        None => {
            eprintln!("warning: {name}={text:?} is not a positive whole number; the limit stays {default}");
            default
        }
    }
}

fn parse_count(text: &str) -> Option<usize> {
    let x: f64 = text.trim().parse().ok()?;
    (x >= 1.0 && x.fract() == 0.0 && x <= usize::MAX as f64).then_some(x as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_count;

    #[test]
    fn counts_are_positive_whole_numbers_in_either_notation() {
        assert_eq!(parse_count("100000000"), Some(100_000_000));
        assert_eq!(parse_count(" 1e8 "), Some(100_000_000));
        for bad in ["0", "-5", "2.5", "inf", "NaN", "lots", ""] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }
}
