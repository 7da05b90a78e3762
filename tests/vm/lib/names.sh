# Names shared by the guest scenarios and the host-side checks.
VM_TARGET_IQN=${VM_TARGET_IQN:-iqn.2026-12.org.iscsi-target:vm.disk0}
VM_INITIATOR_IQN=${VM_INITIATOR_IQN:-iqn.2026-12.org.iscsi-target:vm.initiator}
# The initiator name libiscsi's tools use from the host.
VM_HOST_INITIATOR_IQN=${VM_HOST_INITIATOR_IQN:-iqn.2026-12.org.iscsi-target:vm.host}
VM_LUN_SIZE_MB=${VM_LUN_SIZE_MB:-256}
VM_CHAP_USER=${VM_CHAP_USER:-vm-initiator}
VM_CHAP_SECRET=${VM_CHAP_SECRET:-vm-chap-secret-0123}
