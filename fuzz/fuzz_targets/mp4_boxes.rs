#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cdnprobe::fuzzing::mp4_boxes(data);
});
