# The harness must carry a failing scenario's status to the host unchanged
# (CTest test vm-harness-propagates-failure expects exactly 3).
guest_main() {
    vm_say "failing on purpose with status 3"
    return 3
}
