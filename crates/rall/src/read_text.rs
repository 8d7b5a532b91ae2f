//! A text file's path in, its contents out: every reader of rall's inputs goes through [`read_text`], which
//! refuses binary data (a NUL byte: `/dev/zero`, a PNG given by mistake) and files past 1 GiB before they
//! exhaust the memory, with an error that says which.

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// The largest input rall reads [bytes].
pub const LIMIT_BYTES: u64 = 1 << 30;

/// Reads the whole file as UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    let mut reader = file.take(LIMIT_BYTES + 1);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        if let Some(k) = chunk[..n].iter().position(|&b| b == 0) {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("not a text file (a NUL byte at offset {})", bytes.len() + k),
            ));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    if bytes.len() as u64 > LIMIT_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidData,
            "larger than 1 GiB, more than any model, morphology or trace file rall reads",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (an invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_at_its_first_byte() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "not a text file (a NUL byte at offset 0)");
    }

    #[test]
    fn text_is_read_whole_and_bad_utf8_is_located() {
        let dir = std::env::temp_dir().join(format!("rall-read-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (good, bad) = (dir.join("good.toml"), dir.join("bad.toml"));
        let text = "a = 1\n".repeat(50_000);
        std::fs::write(&good, &text).unwrap();
        std::fs::write(&bad, b"a = 1\n\xff\n").unwrap();
        assert_eq!(read_text(&good).unwrap(), text);
        assert_eq!(
            read_text(&bad).unwrap_err().to_string(),
            "not UTF-8 text (an invalid byte at offset 6)"
        );
    }
}
