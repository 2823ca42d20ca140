#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cdnprobe::fuzzing::sample_parquet(data);
});
