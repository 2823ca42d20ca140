//! A namespace lab that fails half-way through starting leaves nothing behind. (Alone in its
//! test binary: it changes PATH, which no other test may see.)

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use cdnprobe::lab::netns::Network;
use cdnprobe::lab::netns::namespace::{namespaces_held_by_this_process, unavailable_reason};

#[test]
fn a_lab_that_fails_to_start_releases_its_namespaces_and_devices() {
    assert_eq!(unavailable_reason(), None, "this test needs root");
    // An `ip` that works until the lab sets its first route, after namespaces and TUN devices
    // exist: the failure a missing kernel feature would cause there.
    let bin = tempfile::tempdir().unwrap();
    let real_ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .expect("iproute2's ip");
    let fake = bin.path().join("ip");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nif [ \"$1\" = route ]; then echo 'injected failure' >&2; exit 2; fi\n\
             exec {real_ip} \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = namespaces_held_by_this_process();
    // SAFETY: the only test in this binary, and no other thread reads the environment now.
    unsafe { std::env::set_var("PATH", bin.path()) };

    let started = Network::start(
        &[Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2)],
        &[],
        Duration::from_millis(200),
    );

    let error = started.err().expect("the injected failure stops the lab");
    assert!(error.to_string().contains("injected failure"), "{error}");
    assert_eq!(
        namespaces_held_by_this_process(),
        before,
        "a namespace survived"
    );
}
