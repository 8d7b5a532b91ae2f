//! The compiled kernel backend: a tape in, native code out (Cranelift), run over caller-owned columns two
//! instances per SIMD step, with the values the same for every instance computed once before the loop.
//!
//! The interpreter in `evaluate.rs` stays the reference: both give the same bits wherever the compiled code
//! calls the same functions (everything but `exp`, `expm1` and `exprel`, which are inlined here as
//! polynomials, see `math.rs`).

#[cfg(feature = "system-compiler")]
mod c_source;
mod emit;
mod math;
#[cfg(feature = "system-compiler")]
mod system_compiler;

use super::evaluate::Instr;
use cranelift_codegen::ir::{AbiParam, UserFuncName, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Which code runs a tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The column interpreter: the reference.
    Interpreter,
    /// Native code compiled by Cranelift when the tape first runs (the default).
    Compiled,
    /// Native code built by the machine's C compiler at full vector width, cached on disk (cargo feature
    /// `system-compiler`; without it, this is the Cranelift backend).
    SystemCompiler,
}

/// The process's backend, chosen once: by [`Backend::choose`] or else by `RALL_BACKEND`.
static CHOSEN: OnceLock<Backend> = OnceLock::new();

impl Backend {
    /// The names `RALL_BACKEND` and the command line accept.
    pub const NAMES: [&'static str; 3] = ["cranelift", "cc", "interpreter"];

    /// Whether this build has the system-compiler backend (the cargo feature `system-compiler`).
    pub const SYSTEM_COMPILER_BUILT_IN: bool = cfg!(feature = "system-compiler");

    /// The backend of a name (`cranelift`, `cc`, `interpreter`); an error says what is accepted, or that
    /// `cc` needs the feature.
    pub fn from_name(name: &str) -> Result<Backend, String> {
        match name {
            "cranelift" | "compiled" => Ok(Backend::Compiled),
            "interpreter" => Ok(Backend::Interpreter),
            "cc" if Self::SYSTEM_COMPILER_BUILT_IN => Ok(Backend::SystemCompiler),
            "cc" => Err(
                "this rall was built without the system-compiler backend: build it with \
                 `cargo build --release -p rall-cli --features system-compiler`"
                    .into(),
            ),
            other => Err(format!(
                "unknown kernel backend `{other}`: expected one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    /// Chooses the process's backend before any kernel runs; an error if one was already in use.
    pub fn choose(backend: Backend) -> Result<(), String> {
        let chosen = *CHOSEN.get_or_init(|| backend);
        if chosen == backend {
            Ok(())
        } else {
            Err(format!("the kernel backend is already {chosen:?}"))
        }
    }

    /// The process's backend: the one chosen, else `RALL_BACKEND` (`cranelift`, the default; `cc`;
    /// `interpreter`); a value it cannot use is reported once and the default used.
    pub fn from_environment() -> Backend {
        *CHOSEN.get_or_init(|| match std::env::var("RALL_BACKEND") {
            Err(_) => Backend::Compiled,
            Ok(name) => Backend::from_name(&name).unwrap_or_else(|message| {
                eprintln!("warning: RALL_BACKEND: {message}; kernels run with Cranelift");
                Backend::Compiled
            }),
        })
    }
}

/// The input slots a tape reads, in the order compiled code takes their column pointers.
pub(super) struct InputLayout {
    pub slots: Vec<u32>,
    /// Per entry of `slots`: the same for every instance (read once).
    pub uniform: Vec<bool>,
    /// The position of each slot in `slots`.
    pub index_of: HashMap<u32, usize>,
}

impl InputLayout {
    pub fn of(instructions: &[Instr], uniform: &[bool]) -> Self {
        let mut layout = InputLayout {
            slots: Vec::new(),
            uniform: Vec::new(),
            index_of: HashMap::new(),
        };
        for (k, instr) in instructions.iter().enumerate() {
            if let Instr::Input(s) = *instr {
                layout.index_of.entry(s).or_insert_with(|| {
                    layout.slots.push(s);
                    layout.uniform.push(uniform[k]);
                    layout.slots.len() - 1
                });
            }
        }
        layout
    }
}

/// The signature of a compiled tape: input column pointers (in `NativeTape::input_slots` order), output
/// column pointers (in output order), the number of instances.
type Entry = unsafe extern "C" fn(*const *const f64, *const *mut f64, u64);

/// What holds a tape's code in memory.
enum Code {
    Jit(Box<JITModule>),
    /// A `dlopen` handle, as an address.
    #[cfg_attr(not(feature = "system-compiler"), allow(dead_code))]
    Library(usize),
}

/// A tape compiled to native code.
pub(crate) struct NativeTape {
    code: Option<Code>,
    entry: Entry,
    /// The input slots the code reads, in the order it expects their column pointers.
    pub input_slots: Vec<u32>,
    /// Per entry of `input_slots`: read once (the same for every instance), not per instance.
    pub input_uniform: Vec<bool>,
}

// SAFETY: after `finalize_definitions` the module is never touched again but to free its memory in `drop`,
// which has exclusive access; the code itself is immutable and reentrant (it writes only through the
// pointers it is given).
unsafe impl Send for NativeTape {}
unsafe impl Sync for NativeTape {}

impl Drop for NativeTape {
    fn drop(&mut self) {
        match self.code.take() {
            // SAFETY: the last reference to the code is going away with `self`.
            Some(Code::Jit(module)) => unsafe { module.free_memory() },
            #[cfg(feature = "system-compiler")]
            // SAFETY: the handle came from dlopen; this tape's entry point is not called again.
            Some(Code::Library(handle)) => unsafe {
                libc::dlclose(handle as *mut libc::c_void);
            },
            _ => {}
        }
    }
}

impl std::fmt::Debug for NativeTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeTape")
            .field("input_slots", &self.input_slots)
            .finish()
    }
}

impl NativeTape {
    /// Runs the code over `n` instances.
    ///
    /// # Safety
    /// `inputs[j]` must point to at least `n` values (one when `input_uniform[j]`) and `outputs[k]` to `n`
    /// writable values, not overlapping any input, for every input slot and output of the tape.
    pub unsafe fn run(&self, inputs: &[*const f64], outputs: &[*mut f64], n: usize) {
        debug_assert_eq!(inputs.len(), self.input_slots.len());
        unsafe { (self.entry)(inputs.as_ptr(), outputs.as_ptr(), n as u64) }
    }
}

/// What identifies a tape's code: its instructions, which are uniform, and its outputs.
type CacheKey = Vec<u64>;

/// The code compiled in this process, by (system compiler?, tape).
type CodeCache = Mutex<HashMap<(bool, CacheKey), Arc<NativeTape>>>;

fn cache_key(instructions: &[Instr], uniform: &[bool], outputs: &[u32]) -> CacheKey {
    let mut key = Vec::with_capacity(instructions.len() * 4 + outputs.len() + 1);
    for (instr, &u) in instructions.iter().zip(uniform) {
        let (code, a, b, c) = emit::encode(*instr);
        key.extend([code | (u64::from(u) << 32), a, b, c]);
    }
    key.push(u64::MAX);
    key.extend(outputs.iter().map(|&o| u64::from(o)));
    key
}

/// Compiles a tape with `backend` (not the interpreter), or returns the code already compiled for an
/// identical tape in this process (a cell rebuilt for new parameter values has the same tapes: parameters
/// are inputs, not constants).
pub(crate) fn compile(
    backend: Backend,
    instructions: &[Instr],
    uniform: &[bool],
    outputs: &[u32],
) -> Result<Arc<NativeTape>, String> {
    static CACHE: OnceLock<CodeCache> = OnceLock::new();
    let system = cfg!(feature = "system-compiler") && backend == Backend::SystemCompiler;
    let key = (system, cache_key(instructions, uniform, outputs));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(found.clone());
    }
    #[cfg(feature = "system-compiler")]
    let native = if system {
        system_compiler::compile(instructions, uniform, outputs)?
    } else {
        compile_uncached(instructions, uniform, outputs)?
    };
    #[cfg(not(feature = "system-compiler"))]
    let native = compile_uncached(instructions, uniform, outputs)?;
    let native = Arc::new(native);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, native.clone());
    Ok(native)
}

fn compile_uncached(instructions: &[Instr], uniform: &[bool], outputs: &[u32]) -> Result<NativeTape, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| format!("cranelift setting {name}: {e}"))
    };
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    // Cranelift's own optimiser off: the tape comes folded and hash-consed already, and the optimiser's
    // re-placement of every pure instruction next to its first use undoes the interleaved copies of the
    // loop body (see `emit::UNROLL`); the hh tree of 1,001 CVs ran in 2.47 s without it, 2.80 s with it.
    set(&mut flags, "opt_level", "none")?;
    // Cranelift's IR verifier took a quarter of every kernel's compile time; it checks rall's emitter, so it
    // runs where that is tested (builds with debug assertions: the test suite) and not for users.
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) { "true" } else { "false" },
    )?;
    let mut isa = cranelift_native::builder()
        .map_err(|e| format!("this machine is not supported by the compiled backend: {e}"))?;
    if let Ok(list) = std::env::var("RALL_JIT_ISA") {
        for item in list.split(',').filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, "true"));
            isa.set(name, value)
                .map_err(|e| format!("cranelift setting {name}: {e}"))?;
        }
    }
    let isa = isa
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("cranelift: {e}"))?;
    let fused = isa
        .isa_flags()
        .iter()
        .any(|flag| flag.name == "has_fma" && flag.as_bool() == Some(true));
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let mut context = module.make_context();
    let pointer = module.target_config().pointer_type();
    for _ in 0..2 {
        context.func.signature.params.push(AbiParam::new(pointer));
    }
    context.func.signature.params.push(AbiParam::new(types::I64));
    let id = module
        .declare_function("tape", Linkage::Export, &context.func.signature)
        .map_err(|e| format!("cranelift: {e}"))?;
    context.func.name = UserFuncName::user(0, id.as_u32());
    let mut builder_context = FunctionBuilderContext::new();
    let (input_slots, input_uniform) = emit::function(
        &mut context.func,
        &mut builder_context,
        module.target_config(),
        fused,
        instructions,
        uniform,
        outputs,
    );
    let dump = std::env::var_os("RALL_JIT_DUMP").is_some();
    context.set_disasm(dump);
    module
        .define_function(id, &mut context)
        .map_err(|e| format!("cranelift could not compile a kernel: {e:?}"))?;
    if dump && let Some(code) = context.compiled_code() {
        eprintln!("{}", code.vcode.as_deref().unwrap_or(""));
    }
    module.clear_context(&mut context);
    module.finalize_definitions().map_err(|e| format!("cranelift: {e}"))?;
    let code = module.get_finalized_function(id);
    // SAFETY: the function was declared with exactly this signature and the platform's calling convention.
    let entry = unsafe { std::mem::transmute::<*const u8, Entry>(code) };
    Ok(NativeTape {
        code: Some(Code::Jit(Box::new(module))),
        entry,
        input_slots,
        input_uniform,
    })
}
