//! Ion species of one cell: per-CV reversal potentials, concentrations and accumulated ion currents, with Nernst updates.

use crate::discretize::CvIndex;

/// One species over all CVs of a cell.
#[derive(Clone, Debug, PartialEq)]
pub struct IonSpecies {
    pub name: String,
    pub valence: f64,
    /// Reversal potential [mV].
    pub e_mv: Vec<f64>,
    /// Inner and outer concentrations [mM].
    pub ci_mm: Vec<f64>,
    pub co_mm: Vec<f64>,
    /// Current density of this species summed over mechanisms [mA/cm²].
    pub current: Vec<f64>,
    /// Some mechanism writes the concentrations: the reversal potential follows Nernst.
    pub nernst: bool,
    /// Sensitivities of the above with respect to each parameter, when co-simulated.
    pub tangent: Option<IonTangent>,
}

/// Sensitivities of one species' values, lane-major: `[lane * cvs + cv]`.
#[derive(Clone, Debug, PartialEq)]
pub struct IonTangent {
    pub lanes: usize,
    pub e: Vec<f64>,
    pub ci: Vec<f64>,
    pub co: Vec<f64>,
    pub current: Vec<f64>,
}

/// NEURON's defaults: (name, valence, e [mV], ci [mM], co [mM]); its documented eca default is 132.5 mV.
pub const DEFAULT_IONS: [(&str, f64, f64, f64, f64); 3] = [
    ("na", 1.0, 50.0, 10.0, 140.0),
    ("k", 1.0, -77.0, 54.4, 2.5),
    ("ca", 2.0, 132.457_934_171_871_14, 5e-5, 2.0),
];

/// The ion species of a cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IonPool {
    pub species: Vec<IonSpecies>,
}

impl IonPool {
    /// Index of a species, adding it with NEURON's defaults (or zeros for unknown ions) on first use.
    pub fn species_index(&mut self, name: &str, cvs: usize) -> usize {
        if let Some(i) = self.species.iter().position(|s| s.name == name) {
            return i;
        }
        let (valence, e, ci, co) = DEFAULT_IONS
            .iter()
            .find(|d| d.0 == name)
            .map_or((1.0, 0.0, 1.0, 1.0), |d| (d.1, d.2, d.3, d.4));
        self.species.push(IonSpecies {
            name: name.to_string(),
            valence,
            e_mv: vec![e; cvs],
            ci_mm: vec![ci; cvs],
            co_mm: vec![co; cvs],
            current: vec![0.0; cvs],
            nernst: false,
            tangent: None,
        });
        self.species.len() - 1
    }

    pub fn get(&self, name: &str) -> Option<&IonSpecies> {
        self.species.iter().find(|s| s.name == name)
    }

    /// Start of a step: ion currents to zero; reversal potentials follow concentrations where those change.
    pub fn begin_step(&mut self, celsius: f64) {
        for s in &mut self.species {
            s.current.fill(0.0);
            if s.nernst {
                for ((e, ci), co) in s.e_mv.iter_mut().zip(&s.ci_mm).zip(&s.co_mm) {
                    *e = nernst_mv(celsius, s.valence, *ci, *co);
                }
            }
            if let Some(t) = &mut s.tangent {
                t.current.fill(0.0);
                if s.nernst {
                    // dE = 1e3 RT/(zF) (dco/co - dci/ci)
                    let k = nernst_mv(celsius, s.valence, 1.0, std::f64::consts::E);
                    let n = s.e_mv.len();
                    for p in 0..t.lanes {
                        for cv in 0..n {
                            let i = p * n + cv;
                            t.e[i] = k * (t.co[i] / s.co_mm[cv] - t.ci[i] / s.ci_mm[cv]);
                        }
                    }
                }
            }
        }
    }

    /// Starts co-simulating sensitivities of every species with `lanes` parameters (all zero).
    pub fn enable_tangents(&mut self, lanes: usize) {
        for s in &mut self.species {
            let n = lanes * s.e_mv.len();
            s.tangent = Some(IonTangent {
                lanes,
                e: vec![0.0; n],
                ci: vec![0.0; n],
                co: vec![0.0; n],
                current: vec![0.0; n],
            });
        }
    }

    /// Multiplies every sensitivity by `factor` (the forgetting of leaky running sensitivities).
    pub fn scale_tangents(&mut self, factor: f64) {
        for t in self.species.iter_mut().filter_map(|s| s.tangent.as_mut()) {
            for x in t.e.iter_mut().chain(&mut t.ci).chain(&mut t.co) {
                *x *= factor;
            }
        }
    }

    /// The sensitivity column of a variable (lane-major), if co-simulated.
    pub fn tangent_of(&self, species: usize, variable: IonVariable) -> Option<&[f64]> {
        let t = self.species[species].tangent.as_ref()?;
        Some(match variable {
            IonVariable::Reversal => &t.e,
            IonVariable::Inside => &t.ci,
            IonVariable::Outside => &t.co,
            IonVariable::Current => &t.current,
        })
    }

    /// Reads a variable such as `ena`, `cai`, `cao` or `ica` at one CV.
    pub fn value(&self, species: usize, variable: IonVariable, cv: CvIndex) -> f64 {
        self.values(species, variable)[cv]
    }

    /// One quantity of a species over all CVs.
    pub fn values(&self, species: usize, variable: IonVariable) -> &[f64] {
        let s = &self.species[species];
        match variable {
            IonVariable::Reversal => &s.e_mv,
            IonVariable::Inside => &s.ci_mm,
            IonVariable::Outside => &s.co_mm,
            IonVariable::Current => &s.current,
        }
    }
}

/// Which quantity of an ion a mechanism variable names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IonVariable {
    Reversal,
    Inside,
    Outside,
    Current,
}

impl IonVariable {
    /// `ena` → Reversal, `nai` → Inside, `nao` → Outside, `ina` → Current.
    pub fn of(name: &str, ion: &str) -> Option<Self> {
        if name == format!("e{ion}") {
            Some(Self::Reversal)
        } else if name == format!("{ion}i") {
            Some(Self::Inside)
        } else if name == format!("{ion}o") {
            Some(Self::Outside)
        } else if name == format!("i{ion}") {
            Some(Self::Current)
        } else {
            None
        }
    }
}

/// Nernst potential [mV] at `celsius` for valence `z` and concentrations [mM].
pub fn nernst_mv(celsius: f64, z: f64, ci: f64, co: f64) -> f64 {
    const R: f64 = 8.31446261815324; // J/(mol K)
    const F: f64 = 96485.33212331001; // C/mol
    1e3 * R * (celsius + 273.15) / (z * F) * (co / ci).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nernst_potential_matches_a_hand_computed_value() {
        // RT/F at 6.3 °C = 8.31446 * 279.45 / 96485.33 = 24.0811 mV; ln(2.5 / 54.4) = -3.0801
        let e = nernst_mv(6.3, 1.0, 54.4, 2.5);
        assert!((e - 24.0811 * (2.5f64 / 54.4).ln()).abs() < 1e-3, "{e}");
        // Doubling the valence halves it.
        assert!((nernst_mv(6.3, 2.0, 54.4, 2.5) - e / 2.0).abs() < 1e-12);
    }
}
