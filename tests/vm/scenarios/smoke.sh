# The harness itself: the guest boots, the Debian kernel's modules load, the
# host's tools run, and a failing command fails the run (see smoke-fails).
guest_main() {
    vm_step "smoke"
    uname -r
    modprobe target_core_mod
    grep -q '^target_core_mod ' /proc/modules || vm_fail "target_core_mod did not load"
    test -d /sys/kernel/config/target || vm_fail "no /sys/kernel/config/target"
    ip -brief addr
}
