# The reference run, and the proof that the harness works before our own
# module exists: LIO's own iscsi_target_mod in the guest, configured through
# configfs, with a fileio LUN on the guest's tmpfs.
#  - open-iscsi inside the guest: discovery, login, mkfs.ext4, 64 MiB of random
#    data written, remounted, checksum verified, logout;
#  - from the host through the forwarded port: iscsi-ls -s, iscsi-inq,
#    iscsi-readcapacity16, and 8 concurrent iscsi-perf sessions for 10 s.
guest_main() {
    lio_configure
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    fs_roundtrip "$VM_DISK" 64
    oi_logout
    vm_host_phase libiscsi
    vm_host_phase perf
}

host_libiscsi() {
    hc_ls
    hc_inq
    hc_readcapacity16
}

# Not asked of the anchor, but it proves the 8-session check against a
# known-good target before our stack uses it.
host_perf() {
    hc_perf 8 10
}
