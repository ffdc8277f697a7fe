#![no_main]
//! Fuzz target `catalog_csv`: see `fuzzing::catalog_csv`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::catalog_csv(data));
