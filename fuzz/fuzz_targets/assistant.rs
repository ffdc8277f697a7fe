#![no_main]
//! Fuzz target `assistant`: see `fuzzing::assistant`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::assistant(data));
