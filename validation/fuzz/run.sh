#!/usr/bin/env bash
# Runs the readers' mutation fuzzer (crates/rall/tests/fuzz_readers.rs) with a larger budget: N mutated
# inputs for each reader (ASC, SWC, NeuroML2, labels, NMODL, model files; default 1,000,000). A panicking input is written to
# target/fuzz-crash-<reader>.txt. CI runs the same tests with 20,000 inputs a reader.
set -euo pipefail
cd "$(dirname "$0")/../.."
RALL_FUZZ_ITERATIONS="${1:-1000000}" cargo test --release -p rall --test suite fuzz_readers:: -- --nocapture --test-threads 1
