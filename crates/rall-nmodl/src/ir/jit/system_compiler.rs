//! The system-compiler backend (cargo feature `system-compiler`): a tape in, a shared library built by the
//! machine's C compiler out (`$CC`, else `cc`; `-O3 -march=native`, then `$RALL_CC_FLAGS`), loaded with `dlopen`.
//!
//! Libraries are cached by their source, flags and the processor's features in `$RALL_KERNEL_CACHE` (default
//! `~/.cache/rall/kernels`), as nrnivmodl's and Arbor's catalogue builds are kept, so a model's kernels are
//! compiled once per machine.

use super::super::evaluate::Instr;
use super::{Code, NativeTape, c_source};
use std::path::PathBuf;

/// The compiler's flags, then any in `$RALL_CC_FLAGS` (space-separated).
fn compiler_flags() -> Vec<String> {
    // IEEE operations as written (no contraction into FMAs, no reassociation); no errno and no trapping, so
    // selects become blends and sqrt an instruction.
    let mut flags = vec![
        "-O3",
        "-march=native",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=off",
        // libm's functions called, never evaluated at compile time: GCC folds a call whose argument it can
        // prove (say log10 of a constant that a min picked) to the correctly rounded value, which is not
        // always libm's, and the interpreter calls libm.
        "-fno-builtin-log",
        "-fno-builtin-log10",
        "-fno-builtin-exp",
        "-fno-builtin-expm1",
        "-fno-builtin-pow",
        "-fno-builtin-sin",
        "-fno-builtin-cos",
        "-fno-builtin-tan",
        "-fno-builtin-tanh",
        "-fno-builtin-atan2",
        "-fPIC",
        "-shared",
    ];
    if cfg!(target_arch = "x86_64") {
        // Full-width vectors where the machine has them (GCC and Clang default to 256 bits).
        flags.push("-mprefer-vector-width=512");
    }
    let extra = std::env::var("RALL_CC_FLAGS").unwrap_or_default();
    flags
        .into_iter()
        .map(String::from)
        .chain(extra.split_whitespace().map(String::from))
        .collect()
}

fn cache_folder() -> PathBuf {
    if let Some(folder) = std::env::var_os("RALL_KERNEL_CACHE") {
        return PathBuf::from(folder);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("rall").join("kernels")
}

/// The processor features `-march=native` compiles for, so that a cache shared by different machines (a
/// home folder on a cluster) never hands one machine code built for another's instructions.
fn processor() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let mut features = String::from("x86_64");
        macro_rules! detect {
            ($($f:tt),*) => {
                $(if std::arch::is_x86_feature_detected!($f) {
                    features.push(' ');
                    features.push_str($f);
                })*
            };
        }
        detect!(
            "sse4.1", "sse4.2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl", "avx512bw", "bmi2"
        );
        features
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH.to_string()
    }
}

/// FNV-1a, 64 bits: a stable name for a source (the cache must survive rebuilds of rall).
fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes().iter().chain([0u8].iter()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

pub(super) fn compile(instructions: &[Instr], uniform: &[bool], outputs: &[u32]) -> Result<NativeTape, String> {
    let (source, input_slots, input_uniform) = c_source::source(instructions, uniform, outputs);
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let flags = compiler_flags();
    let key = fingerprint(&[&source, &compiler, &flags.join(" "), &processor()]);
    let folder = cache_folder();
    let library = folder.join(format!("{key:016x}.so"));
    if !library.exists() {
        std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        let unique = format!("{key:016x}.{}", std::process::id());
        let source_path = folder.join(format!("{unique}.c"));
        let partial = folder.join(format!("{unique}.so"));
        std::fs::write(&source_path, &source).map_err(|e| format!("cannot write {}: {e}", source_path.display()))?;
        let output = std::process::Command::new(&compiler)
            .args(&flags)
            .arg("-o")
            .arg(&partial)
            .arg(&source_path)
            .output()
            .map_err(|e| format!("cannot run the C compiler `{compiler}`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "the C compiler `{compiler}` failed on {}:\n{}",
                source_path.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if std::env::var_os("RALL_JIT_DUMP").is_none() {
            let _ = std::fs::remove_file(&source_path);
        }
        // Another process may have built the same library meanwhile: renaming over it is harmless.
        std::fs::rename(&partial, &library).map_err(|e| format!("cannot move {}: {e}", partial.display()))?;
    }
    let path = std::ffi::CString::new(library.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: the library is ours, built from the source above; loading it runs no constructors.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("cannot load {}", library.display()));
    }
    // SAFETY: `handle` is a loaded library; the symbol name is a valid C string.
    let symbol = unsafe { libc::dlsym(handle, c"tape".as_ptr()) };
    if symbol.is_null() {
        // SAFETY: the handle came from dlopen and is not used again.
        unsafe { libc::dlclose(handle) };
        return Err(format!("{} has no function `tape`", library.display()));
    }
    // SAFETY: `tape` was generated with exactly this signature, in the platform's C calling convention.
    let entry = unsafe { std::mem::transmute::<*mut libc::c_void, super::Entry>(symbol) };
    Ok(NativeTape {
        code: Some(Code::Library(handle as usize)),
        entry,
        input_slots,
        input_uniform,
    })
}
