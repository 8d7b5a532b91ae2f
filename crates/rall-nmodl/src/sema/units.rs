//! Unit expressions as NMODL files write them (`mA/cm2`, `milliamp/cm2`, `mho/cm2`, `/ms`, `1e-3 mM`) in,
//! a factor and SI dimensions out, so that units are compared by what they mean, not how they are spelled.

/// A unit as a factor times powers of the SI base units (m, kg, s, A, K, mol).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    pub factor: f64,
    pub dims: [i32; 6],
}

impl Unit {
    const ONE: Unit = Unit {
        factor: 1.0,
        dims: [0; 6],
    };

    fn times(self, other: Unit, power: i32) -> Unit {
        let mut dims = self.dims;
        for (d, o) in dims.iter_mut().zip(other.dims) {
            *d += o * power;
        }
        Unit {
            factor: self.factor * other.factor.powi(power),
            dims,
        }
    }

    /// The same dimensions and factor (to round-off).
    pub fn same_as(&self, other: &Unit) -> bool {
        self.dims == other.dims && (self.factor / other.factor - 1.0).abs() < 1e-9
    }
}

/// Named units (NEURON's usual spellings), as (name, factor, [m, kg, s, A, K, mol]).
const NAMES: [(&str, f64, [i32; 6]); 27] = [
    ("m", 1.0, [1, 0, 0, 0, 0, 0]),
    ("meter", 1.0, [1, 0, 0, 0, 0, 0]),
    ("micron", 1e-6, [1, 0, 0, 0, 0, 0]),
    ("g", 1e-3, [0, 1, 0, 0, 0, 0]),
    ("gram", 1e-3, [0, 1, 0, 0, 0, 0]),
    ("s", 1.0, [0, 0, 1, 0, 0, 0]),
    ("sec", 1.0, [0, 0, 1, 0, 0, 0]),
    ("second", 1.0, [0, 0, 1, 0, 0, 0]),
    ("A", 1.0, [0, 0, 0, 1, 0, 0]),
    ("amp", 1.0, [0, 0, 0, 1, 0, 0]),
    ("ampere", 1.0, [0, 0, 0, 1, 0, 0]),
    ("K", 1.0, [0, 0, 0, 0, 1, 0]),
    ("degC", 1.0, [0, 0, 0, 0, 1, 0]),
    ("mol", 1.0, [0, 0, 0, 0, 0, 1]),
    ("mole", 1.0, [0, 0, 0, 0, 0, 1]),
    ("l", 1e-3, [3, 0, 0, 0, 0, 0]),
    ("L", 1e-3, [3, 0, 0, 0, 0, 0]),
    ("liter", 1e-3, [3, 0, 0, 0, 0, 0]),
    ("M", 1e3, [-3, 0, 0, 0, 0, 1]),
    ("molar", 1e3, [-3, 0, 0, 0, 0, 1]),
    ("V", 1.0, [2, 1, -3, -1, 0, 0]),
    ("volt", 1.0, [2, 1, -3, -1, 0, 0]),
    ("ohm", 1.0, [2, 1, -3, -2, 0, 0]),
    ("S", 1.0, [-2, -1, 3, 2, 0, 0]),
    ("mho", 1.0, [-2, -1, 3, 2, 0, 0]),
    ("siemens", 1.0, [-2, -1, 3, 2, 0, 0]),
    ("coulomb", 1.0, [0, 0, 1, 1, 0, 0]),
];

const PREFIXES: [(&str, f64); 16] = [
    ("femto", 1e-15),
    ("pico", 1e-12),
    ("nano", 1e-9),
    ("micro", 1e-6),
    ("milli", 1e-3),
    ("centi", 1e-2),
    ("kilo", 1e3),
    ("mega", 1e6),
    ("f", 1e-15),
    ("p", 1e-12),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("c", 1e-2),
    ("k", 1e3),
    ("M", 1e6),
];

fn named(name: &str) -> Option<Unit> {
    let lookup = |n: &str| {
        NAMES
            .iter()
            .find(|(k, _, _)| *k == n)
            .map(|&(_, factor, dims)| Unit { factor, dims })
    };
    if let Some(u) = lookup(name) {
        return Some(u);
    }
    if let Some(&(_, factor)) = PREFIXES.iter().find(|(p, _)| p.len() > 1 && *p == name) {
        return Some(Unit { factor, dims: [0; 6] });
    }
    let plural = name.strip_suffix('s').and_then(lookup);
    if plural.is_some() && name.len() > 3 {
        return plural;
    }
    PREFIXES.iter().find_map(|(p, f)| {
        let rest = name.strip_prefix(p)?;
        let u = lookup(rest).or_else(|| rest.strip_suffix('s').filter(|r| r.len() > 2).and_then(lookup))?;
        Some(Unit {
            factor: f * u.factor,
            ..u
        })
    })
}

/// Parses a unit expression: factors separated by spaces, `-` or `*`, `/` dividing by everything after it
/// up to the next `/` (as NMODL reads `mA/cm2`), each factor a number or a name with an optional integer
/// power (`cm2`, `um3`). `None` for a name it does not know.
pub fn parse_unit(text: &str) -> Option<Unit> {
    let mut unit = Unit::ONE;
    for (k, part) in text.split('/').enumerate() {
        let power = if k == 0 { 1 } else { -1 };
        for factor in part.split([' ', '*', '-']).filter(|f| !f.is_empty()) {
            if let Ok(x) = factor.parse::<f64>() {
                unit.factor *= x.powi(power);
                continue;
            }
            let digits = factor.trim_end_matches(|c: char| c.is_ascii_digit());
            let exponent: i32 = if digits.len() < factor.len() {
                factor[digits.len()..].parse().ok()?
            } else {
                1
            };
            unit = unit.times(named(digits)?, power * exponent);
        }
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_the_same_unit_agree_and_different_ones_do_not() {
        let u = |t: &str| parse_unit(t).unwrap_or_else(|| panic!("{t}"));
        assert!(u("mA/cm2").same_as(&u("milliamp/cm2")));
        assert!(u("mA/cm2").same_as(&u("mV mho/cm2")));
        assert!(u("mA/cm2").same_as(&u("mV S/cm2")));
        assert!(u("nA").same_as(&u("nanoamp")));
        assert!(u("mM").same_as(&u("millimolar")));
        assert!(u("/ms").same_as(&u("1/ms")));
        assert!(u("um").same_as(&u("micron")));
        assert!((u("mA/cm2").factor - 10.0).abs() < 1e-12); // 1 mA/cm² = 10 A/m²
        assert!(!u("mA/cm2").same_as(&u("nA")));
        assert!(!u("mA/cm2").same_as(&u("uA/cm2")));
        assert!(parse_unit("bogons").is_none());
    }
}
