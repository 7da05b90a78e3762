# The CHAP twin of lio-anchor on LIO's own iscsi_target_mod: proves the CHAP
# path of the harness (oi_chap, the wrong-secret check) against a known-good
# target, with the same ACL, user and secret as configs/chap.json.
guest_main() {
    lio_configure --chap "$VM_CHAP_USER" "$VM_CHAP_SECRET"
    oi_start
    oi_discover 127.0.0.1:3260
    vm_step "login with a wrong CHAP secret must fail"
    oi_chap "$VM_CHAP_USER" "not-the-secret-0123"
    if iscsiadm -m node -T "$VM_TARGET_IQN" --login; then
        vm_fail "the target accepted a wrong CHAP secret"
    fi
    oi_chap "$VM_CHAP_USER" "$VM_CHAP_SECRET"
    oi_login
    fs_roundtrip "$VM_DISK" 16
    oi_logout
}
