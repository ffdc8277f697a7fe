#![no_main]
//! Fuzz target `device_events`: see `fuzzing::device_events`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::device_events(data));
