//! The subcommands of `rall`, one file each.

pub mod check;
pub mod fit;
pub mod grad;
pub mod import;
pub mod inspect;
pub mod plot;
pub mod run;
