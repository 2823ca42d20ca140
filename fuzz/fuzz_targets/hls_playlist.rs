#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cdnprobe::fuzzing::hls_playlist(data);
});
