#![no_main]
//! Fuzz target `search_analyzer`: see `fuzzing::search_analyzer`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::search_analyzer(data));
