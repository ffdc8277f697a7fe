#![no_main]
//! Fuzz target `mqtt_frames`: see `fuzzing::mqtt_frames`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::mqtt_frames(data));
