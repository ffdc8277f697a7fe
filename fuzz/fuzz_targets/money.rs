#![no_main]
//! Fuzz target `money`: see `fuzzing::money`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::money(data));
