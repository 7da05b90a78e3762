// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init and exit of iscsi_handoff.ko.
 *
 * Load order: command cache and workqueue, then the fabric template (so that
 * configfs targets can exist), then the netlink family (so that handoffs
 * can arrive). Unload runs the other way round and closes any session left
 * with reason MODULE_UNLOAD.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "ih.h"

struct workqueue_struct *ih_wq;
bool ih_unloading;

static int __init ih_init(void)
{
	int ret;

	ih_cmd_cache = KMEM_CACHE(ih_cmd, 0);
	if (!ih_cmd_cache)
		return -ENOMEM;
	ih_wq = alloc_workqueue("iscsi_handoff", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!ih_wq) {
		ret = -ENOMEM;
		goto out_cache;
	}
	ret = target_register_template(&ih_fabric_ops);
	if (ret)
		goto out_wq;
	ret = ih_genl_init();
	if (ret)
		goto out_template;
	pr_info("iscsi_handoff: %s loaded\n", IH_VERSION_STRING);
	return 0;

out_template:
	target_unregister_template(&ih_fabric_ops);
out_wq:
	destroy_workqueue(ih_wq);
out_cache:
	kmem_cache_destroy(ih_cmd_cache);
	return ret;
}

static void __exit ih_exit(void)
{
	ih_genl_exit();		/* no new handoffs */
	mutex_lock(&ih_lock);
	ih_unloading = true;
	mutex_unlock(&ih_lock);
	/*
	 * configfs pins the module while any target of this fabric exists and
	 * dropping a TPG closes its sessions, so normally none is left here.
	 */
	ih_close_all_sessions(ISCSI_HANDOFF_REASON_MODULE_UNLOAD);
	ih_abort_scan_stop();
	target_unregister_template(&ih_fabric_ops);
	destroy_workqueue(ih_wq);
	kmem_cache_destroy(ih_cmd_cache);
	pr_info("iscsi_handoff: unloaded\n");
}

module_init(ih_init);
module_exit(ih_exit);

MODULE_DESCRIPTION("iSCSI Full Feature Phase on sockets handed off by iscsi-targetd (LIO fabric)");
MODULE_AUTHOR("iscsi-target project");
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
MODULE_ALIAS_GENL_FAMILY(ISCSI_HANDOFF_GENL_NAME);
