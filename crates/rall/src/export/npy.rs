//! Traces in, NumPy's `.npy` format out: one structured array with a named little-endian float64 field per
//! column (`t`, the probes, the sensitivities), so `np.load(path)["soma"]` and `pandas.DataFrame(np.load(path))`
//! see the columns by name, as the CSV header names them.

use crate::Traces;
use std::io::Write;

/// Writes `traces` as one `.npy` structured array of `time_ms.len()` records (format version 1.0, or 2.0 when
/// the header with its column names exceeds 64 KiB).
pub fn write_npy(traces: &Traces, out: &mut impl Write) -> std::io::Result<()> {
    let names: Vec<&str> = std::iter::once("t")
        .chain(traces.names.iter().map(String::as_str))
        .chain(traces.tangent_names.iter().map(String::as_str))
        .collect();
    let fields: Vec<String> = names
        .iter()
        .map(|n| format!("('{}', '<f8')", python_string(n)))
        .collect();
    let dictionary = format!(
        "{{'descr': [{}], 'fortran_order': False, 'shape': ({},), }}",
        fields.join(", "),
        traces.time_ms.len()
    );
    out.write_all(&npy_header(&dictionary))?;
    let columns: Vec<&[f64]> = traces
        .values
        .iter()
        .chain(&traces.tangents)
        .map(Vec::as_slice)
        .collect();
    let mut record = Vec::with_capacity(8 * names.len());
    for (k, t) in traces.time_ms.iter().enumerate() {
        record.clear();
        record.extend_from_slice(&t.to_le_bytes());
        for column in &columns {
            record.extend_from_slice(&column[k].to_le_bytes());
        }
        out.write_all(&record)?;
    }
    Ok(())
}

/// The magic, the format version, the header's length and the header `dictionary`, padded with spaces and
/// ended by a newline so that the data starts at a multiple of 64 bytes (version 1.0, or 2.0 when the
/// header exceeds 64 KiB).
pub(super) fn npy_header(dictionary: &str) -> Vec<u8> {
    let (version, length_bytes) = if dictionary.len() + 11 < 65_536 {
        (1u8, 2)
    } else {
        (2u8, 4)
    };
    let prefix = 6 + 2 + length_bytes;
    let padded = (prefix + dictionary.len() + 1).div_ceil(64) * 64;
    let header_length = padded - prefix;
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header_length as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_length as u32).to_le_bytes());
    }
    out.extend_from_slice(dictionary.as_bytes());
    out.resize(padded - 1, b' ');
    out.push(b'\n');
    out
}

/// `name` inside a single-quoted Python string literal.
fn python_string(name: &str) -> String {
    name.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(names: &[&str]) -> Traces {
        Traces {
            time_ms: vec![0.0, 0.5],
            names: names.iter().map(|n| n.to_string()).collect(),
            values: names.iter().map(|_| vec![-65.0, 1.5]).collect(),
            units: names.iter().map(|_| "mV".to_string()).collect(),
            tangent_names: vec![],
            tangents: vec![],
            spikes: vec![],
            gids: vec![],
        }
    }

    /// The layout NumPy's format document specifies: magic, version, header length, a header ending in a
    /// newline with the data 64-byte aligned, then records of float64 little-endian.
    #[test]
    fn the_header_and_records_follow_the_npy_format() {
        let mut bytes = Vec::new();
        write_npy(&traces(&["soma", "it's"]), &mut bytes).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_length = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_length) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_length]).unwrap();
        assert!(header.ends_with('\n'));
        assert!(header.starts_with("{'descr': [('t', '<f8'), ('soma', '<f8'), ('it\\'s', '<f8')]"));
        assert!(header.contains("'shape': (2,)"));
        let data = &bytes[10 + header_length..];
        assert_eq!(data.len(), 2 * 3 * 8);
        let value = |k: usize| f64::from_le_bytes(data[8 * k..8 * k + 8].try_into().unwrap());
        assert_eq!(
            [value(0), value(1), value(2), value(3), value(4)],
            [0.0, -65.0, -65.0, 0.5, 1.5]
        );
    }

    #[test]
    fn a_header_beyond_64_kib_uses_format_version_2() {
        let names: Vec<String> = (0..5000).map(|k| format!("probe_{k}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut bytes = Vec::new();
        write_npy(&traces(&refs), &mut bytes).unwrap();
        assert_eq!(&bytes[6..8], &[2, 0]);
        let header_length = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        assert_eq!((12 + header_length) % 64, 0);
        assert_eq!(bytes.len() - 12 - header_length, 2 * 5001 * 8);
    }
}
