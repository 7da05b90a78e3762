# kmod-glue (the daemon's C++ data-path client) against the real module and
# LIO's real configfs, with iscsi-handoff-probe and no daemon:
#  - without the module: exit 2 and the reason;
#  - GET_VERSION (major 1), GET_LIMITS, SESSION_LIST (empty) over libnl-genl;
#  - SESSION_TERMINATE of an unknown handle: the module's extended ack reaches Error::message;
#  - the configfs manager builds demo.json's tree (fileio backstore, target, TPG, LUN, ACL with
#    mapped LUNs), a second plan against the real tree is empty (idempotent), a changed config
#    touches only what changed, an empty config removes everything it made, then rmmod works.
#   tests/vm/run kmod-glue
VM_PROBE=${VM_PROBE:-$BUILD_DIR/bin/iscsi-handoff-probe}
GLUE_TARGET=iqn.2026-12.org.iscsi-target:vm.disk0

glue_config() {  # glue_config WRITE_PROTECT: demo.json plus an ACL with two mapped LUNs
    cat <<JSON
{
  "backstores": [
    { "name": "disk0", "type": "fileio", "path": "/var/tmp/vm-disk0.img", "size_bytes": 268435456,
      "attributes": { "emulate_tpu": "1" } },
    { "name": "ram0", "type": "ramdisk", "size_bytes": 16777216 }
  ],
  "targets": [
    {
      "name": "$GLUE_TARGET",
      "portal_groups": [ { "tpgt": 1, "portals": [ { "address": "0.0.0.0", "port": 3260 } ] } ],
      "luns": [ { "lun": 0, "backstore": "disk0" }, { "lun": 1, "backstore": "ram0" } ],
      "acls": [ { "initiator_name": "iqn.1994-05.com.example:host",
                  "mapped_luns": [ { "mapped_lun": 0, "lun": 0 },
                                   { "mapped_lun": 3, "lun": 1, "write_protect": $1 } ] } ]
    }
  ]
}
JSON
}

guest_main() {
    [ -x "$VM_PROBE" ] || vm_fail "$VM_PROBE is not built"
    [ -f "$VM_HANDOFF_KO" ] || vm_fail "$VM_HANDOFF_KO is not built"
    local rc=0 out tpg=$VM_CONFIGFS/iscsi_handoff/$GLUE_TARGET/tpgt_1

    vm_step "without the module: the probe names what is missing"
    out=$("$VM_PROBE" version 2>&1) || rc=$?
    echo "$out"
    [ $rc -eq 2 ] || vm_fail "probe without the module exited $rc, expected 2"
    echo "$out" | grep -q "ISCSI_HANDOFF not found" || vm_fail "no reason given without the module"

    # iscsi_handoff.ko uses crc32c() (libcrc32c); insmod does not load dependencies.
    modprobe libcrc32c
    handoff_load
    modprobe target_core_mod
    mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config

    vm_step "GET_VERSION, GET_LIMITS, SESSION_LIST through kmod-glue"
    out=$("$VM_PROBE" version) || vm_fail "probe version failed"
    echo "$out"
    echo "$out" | grep -q '"major":1' || vm_fail "module major version is not 1"
    "$VM_PROBE" limits || vm_fail "probe limits failed"
    "$VM_PROBE" sessions --expect-empty || vm_fail "the module lists sessions before any login"

    vm_step "an unknown session handle is refused with the module's reason"
    rc=0
    out=$("$VM_PROBE" terminate-session 12345 2>&1) || rc=$?
    echo "$out"
    [ $rc -eq 1 ] || vm_fail "terminating an unknown session exited $rc"
    echo "$out" | grep -q "no live session with this handle" || vm_fail "the extended ack did not reach the Error"

    vm_step "configfs: build the tree from nothing"
    glue_config false > /tmp/glue.json
    "$VM_PROBE" configfs-apply --config /tmp/glue.json || vm_fail "configfs-apply failed"
    ls -lR "$tpg/lun" "$tpg/acls" | grep -- '->' || true
    cat "$VM_CONFIGFS/core/fileio_7143/disk0/info" "$VM_CONFIGFS/core/fileio_7143/disk0/attrib/emulate_tpu"
    [ "$(cat "$VM_CONFIGFS/core/fileio_7143/disk0/enable")" = 1 ] || vm_fail "disk0 is not enabled"
    [ -L "$tpg/lun/lun_1/backstore" ] || vm_fail "lun_1 has no link to its backstore"
    [ -L "$tpg/acls/iqn.1994-05.com.example:host/lun_3/tpg_lun" ] || vm_fail "mapped LUN 3 has no link"
    [ "$(cat "$tpg/enable")" = 1 ] || vm_fail "tpgt_1 is not enabled"

    vm_step "configfs: the same configuration again plans nothing"
    out=$("$VM_PROBE" configfs-plan --config /tmp/glue.json) || vm_fail "configfs-plan failed"
    echo "$out"
    [ "$(echo "$out" | tr -d ' \n')" = "[]" ] || vm_fail "re-applying the same configuration is not a no-op"

    vm_step "configfs: write-protecting one mapped LUN is one write"
    glue_config true > /tmp/glue2.json
    out=$("$VM_PROBE" configfs-apply --config /tmp/glue2.json) || vm_fail "configfs-apply (change) failed"
    echo "$out"
    [ "$(echo "$out" | grep -c '"')" -eq 1 ] || vm_fail "the change was not a single operation"
    [ "$(cat "$tpg/acls/iqn.1994-05.com.example:host/lun_3/write_protect")" = 1 ] || vm_fail "write_protect not set"

    vm_step "configfs: an empty configuration removes what the manager made"
    echo '{}' > /tmp/glue-empty.json
    "$VM_PROBE" configfs-apply --config /tmp/glue-empty.json || vm_fail "configfs-apply (empty) failed"
    [ ! -e "$VM_CONFIGFS/iscsi_handoff/$GLUE_TARGET" ] || vm_fail "the target is still there"
    [ ! -e "$VM_CONFIGFS/core/fileio_7143" ] || vm_fail "the backstore HBA is still there"
    "$VM_PROBE" sessions --expect-empty || vm_fail "sessions appeared"
    handoff_unload
}
