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

    vm_step "a live session (login by ih_tool.py serve, open-iscsi): SESSION_LIST and a down event"
    "$VM_PROBE" configfs-apply --config "$VM_SRC/configs/demo.json" || vm_fail "configfs-apply demo.json failed"
    python3 "$VM_SRC/tools/ih_tool.py" serve --target "$GLUE_TARGET" --tpgt 1 --port 3260 --count 4 \
        > /tmp/glue-serve.log 2>&1 &
    local server=$!
    vm_on_exit "kill $server"
    vm_wait_for 10 vm_listening 3260 || { cat /tmp/glue-serve.log; vm_fail "ih_tool.py serve does not listen"; }
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    out=$("$VM_PROBE" sessions) || vm_fail "probe sessions failed"
    echo "$out"
    echo "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert len(s) == 1, "expected one session, got %d" % len(s)
assert s[0]["target"] == sys.argv[1], s[0]["target"]
assert s[0]["tsih"] != 0 and s[0]["handle"] != 0
assert len(s[0]["connections"]) == 1 and s[0]["connections"][0]["peer"].startswith("127.0.0.1:")
print("session list decoded: tsih", s[0]["tsih"], "isid", s[0]["isid"])
' "$GLUE_TARGET" || vm_fail "the session list is not what open-iscsi logged in"
    "$VM_PROBE" events --count 1 --timeout 60 > /tmp/glue-events.json 2>&1 &
    local listener=$!
    vm_wait_for 10 grep -q listening /tmp/glue-events.json || vm_fail "event listener did not start"
    oi_logout
    rc=0
    wait $listener || rc=$?
    cat /tmp/glue-events.json
    [ $rc -eq 0 ] || vm_fail "no down event within 60 s (probe exit $rc)"
    grep -q '"kind":"\(session_down\|conn_down\)"' /tmp/glue-events.json || vm_fail "no down event decoded"
    vm_wait_for 10 "$VM_PROBE" sessions --expect-empty > /dev/null || vm_fail "a session is left after logout"
    kill "$server" 2>/dev/null || true

    vm_step "configfs: an empty configuration removes what the manager made"
    echo '{}' > /tmp/glue-empty.json
    "$VM_PROBE" configfs-apply --config /tmp/glue-empty.json || vm_fail "configfs-apply (empty) failed"
    [ ! -e "$VM_CONFIGFS/iscsi_handoff/$GLUE_TARGET" ] || vm_fail "the target is still there"
    [ ! -e "$VM_CONFIGFS/core/fileio_7143" ] || vm_fail "the backstore HBA is still there"
    "$VM_PROBE" sessions --expect-empty || vm_fail "sessions appeared"
    handoff_unload
}
