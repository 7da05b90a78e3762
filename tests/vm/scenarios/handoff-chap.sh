# Issue 3, done-when, with CHAP: the same end-to-end run through our stack
# with one ACL and one-way CHAP; a wrong secret is refused first.
guest_main() {
    stack_start "$VM_SRC/configs/chap.json" "$VM_SRC/configs/chap-secrets.json"
    oi_start
    oi_discover 127.0.0.1:3260

    vm_step "login with a wrong CHAP secret must fail"
    oi_chap "$VM_CHAP_USER" "not-the-secret-0123"
    if iscsiadm -m node -T "$VM_TARGET_IQN" --login; then
        vm_fail "the target accepted a wrong CHAP secret"
    fi
    iscsiadm -m node -T "$VM_TARGET_IQN" --logout >/dev/null 2>&1 || true

    oi_chap "$VM_CHAP_USER" "$VM_CHAP_SECRET"
    oi_login
    stack_expect_sessions 1
    fs_roundtrip "$VM_DISK" 64
    oi_logout
    vm_wait_for 10 stack_no_sessions || true
    stack_expect_sessions 0
    stack_stop
    handoff_unload
}
