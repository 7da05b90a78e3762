# The reference run, and the proof that the harness works before our own
# module exists: LIO's own iscsi_target_mod in the guest, configured through
# configfs, with a fileio LUN on the guest's tmpfs.
#  - open-iscsi inside the guest: discovery, login, mkfs.ext4, 64 MiB of random
#    data written, remounted, checksum verified, logout;
#  - from the host through the forwarded port: iscsi-ls -s, iscsi-inq,
#    iscsi-readcapacity16.
guest_main() {
    lio_configure
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    fs_roundtrip "$VM_DISK" 64
    oi_logout
    vm_host_phase libiscsi
}

host_libiscsi() {
    hc_ls
    hc_inq
    hc_readcapacity16
}
