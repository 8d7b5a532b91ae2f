//! "Did you mean" hints: a misspelt name and the known names in, the closest known name out.

/// The known name closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// `" (did you mean `x`?)"` or an empty string.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

pub use rall_nmodl::diagnostics::edit_distance;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance("soma", "soma"), 0);
        assert_eq!(edit_distance("soma", "some"), 1);
        assert_eq!(edit_distance("dend", "dendrite"), 4);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_name_is_suggested_only_when_close() {
        assert_eq!(closest("dendrit", ["soma", "dendrite", "axon"]), Some("dendrite"));
        assert_eq!(closest("xyzzy", ["soma", "dendrite", "axon"]), None);
    }
}
