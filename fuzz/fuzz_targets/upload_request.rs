#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cdnprobe_server::fuzzing::upload_request(data);
});
