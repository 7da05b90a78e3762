# iscsi_handoff.ko alone: it loads on Debian's kernel next to LIO's core,
# answers GET_VERSION and an empty SESSION_LIST over netlink, shows its
# configfs fabric, and unloads.
guest_main() {
    [ -f "$VM_HANDOFF_KO" ] || vm_fail "$VM_HANDOFF_KO is not built"
    handoff_load
    python3 "$VM_IH_TOOL" version
    python3 "$VM_IH_TOOL" list --expect 0
    mkdir -p "$VM_CONFIGFS/iscsi_handoff"
    ls "$VM_CONFIGFS/iscsi_handoff"
    rmdir "$VM_CONFIGFS/iscsi_handoff"
    handoff_unload
}
