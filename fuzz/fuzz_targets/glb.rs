#![no_main]
//! Fuzz target `glb`: see `fuzzing::glb`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::glb(data));
