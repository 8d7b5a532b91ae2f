//! Traces in, NumPy's `.npz` archive out: the arrays the Python package's `Run` has (`time`, `traces`
//! [time, probe], `sensitivities` [time, probe, parameter], `spike_times`, `spike_gids`, with the names of
//! probes, units, parameters and gids), each an `.npy` file in an uncompressed zip, as `numpy.savez` writes it.

use super::npy::npy_header;
use crate::Traces;
use std::io::Write;

/// One `.npy` array: `descr` (NumPy's dtype string), `shape`, and the data in C order.
struct Array {
    name: &'static str,
    bytes: Vec<u8>,
}

fn array(name: &'static str, descr: &str, shape: &[usize], data: Vec<u8>) -> Array {
    let shape = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    let dictionary = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let mut bytes = npy_header(&dictionary);
    bytes.extend(data);
    Array { name, bytes }
}

fn floats(values: impl Iterator<Item = f64>) -> Vec<u8> {
    values.flat_map(f64::to_le_bytes).collect()
}

/// Unicode strings as NumPy stores them: UTF-32LE code points, each padded with zeros to the longest.
fn strings(name: &'static str, values: &[String]) -> Array {
    let width = values.iter().map(|v| v.chars().count()).max().unwrap_or(0).max(1);
    let mut data = Vec::with_capacity(4 * width * values.len());
    for v in values {
        let mut n = 0;
        for c in v.chars() {
            data.extend_from_slice(&(c as u32).to_le_bytes());
            n += 1;
        }
        data.resize(data.len() + 4 * (width - n), 0);
    }
    array(name, &format!("<U{width}"), &[values.len()], data)
}

/// The arrays of an archive, named as the Python package's `Run` names them.
fn arrays(traces: &Traces) -> Vec<Array> {
    let samples = traces.time_ms.len();
    let probes = traces.values.len();
    let parameters = traces.parameters();
    let mut out = vec![
        array("time", "<f8", &[samples], floats(traces.time_ms.iter().copied())),
        strings("probes", &traces.names),
        strings("units", &traces.units),
        array(
            "traces",
            "<f8",
            &[samples, probes],
            floats((0..samples).flat_map(|k| traces.values.iter().map(move |v| v[k]))),
        ),
    ];
    if !parameters.is_empty() {
        // The tangent columns are probe-major (d<probe>/d<parameter>); the controller's columns carry none.
        let lanes = parameters.len();
        let differentiated = traces.tangents.len() / lanes;
        out.push(strings("parameters", &parameters));
        out.push(array(
            "sensitivities",
            "<f8",
            &[samples, differentiated, lanes],
            floats((0..samples).flat_map(|k| traces.tangents.iter().map(move |v| v[k]))),
        ));
    }
    out.push(array(
        "spike_times",
        "<f8",
        &[traces.spikes.len()],
        floats(traces.spikes.iter().map(|s| s.t_ms)),
    ));
    out.push(array(
        "spike_gids",
        "<i8",
        &[traces.spikes.len()],
        traces
            .spikes
            .iter()
            .flat_map(|s| (s.gid as i64).to_le_bytes())
            .collect(),
    ));
    out.push(strings("gids", &traces.gids));
    out
}

/// Writes `traces` as an `.npz` archive (`np.load(path)["traces"]`). An archive past 4 GiB (the plain zip
/// format's limit) is refused: write `.npy` or CSV instead.
pub fn write_npz(traces: &Traces, out: &mut impl Write) -> std::io::Result<()> {
    let too_big = || std::io::Error::other("an .npz archive is limited to 4 GiB here; write .npy or .csv instead");
    let mut central = Vec::new();
    let mut offset = 0usize;
    let entries = arrays(traces);
    for entry in &entries {
        let name = format!("{}.npy", entry.name);
        let size = u32::try_from(entry.bytes.len()).map_err(|_| too_big())?;
        let crc = crc32(&entry.bytes);
        // Stored (method 0), no flags, the DOS date 1980-01-01 00:00.
        let common = |out: &mut Vec<u8>| {
            for half in [20u16, 0, 0, 0, 0x21] {
                out.extend_from_slice(&half.to_le_bytes());
            }
            for word in [crc, size, size] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        };
        let mut local = 0x04034b50u32.to_le_bytes().to_vec();
        common(&mut local);
        local.extend_from_slice(name.as_bytes());
        out.write_all(&local)?;
        out.write_all(&entry.bytes)?;
        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        // Comment length, disk, internal and external attributes, then where the local header starts.
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&u32::try_from(offset).map_err(|_| too_big())?.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        offset += local.len() + entry.bytes.len();
    }
    let mut end = 0x06054b50u32.to_le_bytes().to_vec();
    end.extend_from_slice(&[0; 4]);
    end.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    end.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&u32::try_from(offset).map_err(|_| too_big())?.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&central)?;
    out.write_all(&end)
}

/// The zip format's CRC-32 (polynomial 0xEDB88320, reflected).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check value every CRC-32 implementation gives for "123456789".
    #[test]
    fn crc32_gives_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
