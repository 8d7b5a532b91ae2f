//! The subcommands of `rall`, one file each.

pub mod inspect;
pub mod run;
