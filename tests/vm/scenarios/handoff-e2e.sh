# Issue 3, done-when, through our stack: iscsi-targetd does the login, then
# hands the socket to iscsi_handoff.ko, which serves the Full Feature Phase
# on LIO's core (fileio LUN on the guest's tmpfs, demo mode).
#  - open-iscsi in the guest: discovery through the daemon, login, mkfs.ext4,
#    64 MiB random data, remount, checksum, logout;
#  - from the host: iscsi-ls -s, iscsi-inq, iscsi-readcapacity16, and 8
#    concurrent iscsi-perf sessions for 10 s without an error;
#  - then the daemon lists no session, stops cleanly, and rmmod succeeds.
guest_main() {
    stack_start "$VM_SRC/configs/demo.json"
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    stack_expect_sessions 1
    fs_roundtrip "$VM_DISK" 64
    oi_logout
    vm_host_phase libiscsi
    vm_host_phase perf
    vm_step "after the scenarios: no session is left"
    vm_wait_for 10 stack_no_sessions || true
    stack_expect_sessions 0
    stack_stop
    handoff_unload
}

host_libiscsi() {
    hc_ls
    hc_inq
    hc_readcapacity16
}

host_perf() {
    hc_perf 8 10
}
