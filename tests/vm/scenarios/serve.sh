# Serving (tests/vm/run --serve): configure the target, say VM-READY, and keep
# the guest up until the host kills QEMU. With --anchor lio the target is
# LIO's own iscsi_target_mod, otherwise our daemon with iscsi_handoff.ko.
guest_main() {
    if [ "${VM_ANCHOR:-}" = lio ]; then
        lio_configure
    else
        stack_start
    fi
    vm_step "serving"
    echo "VM-READY"
    while :; do sleep 3600; done
}
