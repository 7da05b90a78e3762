// SPDX-License-Identifier: GPL-2.0
/*
 * configfs.c - the fabric template: /sys/kernel/config/target/iscsi_handoff/
 * <target IQN>/tpgt_N/{lun,acls,attrib,param}, laid out like LIO's own
 * fabrics so that targetcli-style tools and kmod-glue's configfs manager work
 * the same way.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/ctype.h>
#include <linux/configfs.h>
#include <scsi/scsi_proto.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "ih.h"

DEFINE_MUTEX(ih_lock);
LIST_HEAD(ih_tpg_list);

/*
 * RFC 3722 / RFC 7143 s.4.2.7: "iqn." date "." reversed domain [":" anything],
 * "eui." 16 hex digits, "naa." 16 or 32 hex digits. Names are compared after
 * stringprep, which lowercases, so only lowercase is accepted here.
 */
static bool ih_name_chars_ok(const char *s)
{
	for (; *s; s++) {
		if (islower(*s) || isdigit(*s) || *s == '-' || *s == '.' || *s == ':')
			continue;
		return false;
	}
	return true;
}

static bool ih_all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit(s[i]))
			return false;
	return s[n] == '\0';
}

bool ih_valid_iscsi_name(const char *name)
{
	size_t len = strnlen(name, ISCSI_HANDOFF_NAME_MAX + 1);

	if (len == 0 || len > ISCSI_HANDOFF_NAME_MAX)
		return false;
	if (!strncmp(name, "iqn.", 4)) {
		/* iqn.yyyy-mm.<reversed domain>... */
		if (len < 12 || !isdigit(name[4]) || !isdigit(name[5]) ||
		    !isdigit(name[6]) || !isdigit(name[7]) || name[8] != '-' ||
		    !isdigit(name[9]) || !isdigit(name[10]) || name[11] != '.' ||
		    len == 12)
			return false;
		return ih_name_chars_ok(name);
	}
	if (!strncmp(name, "eui.", 4))
		return len == 20 && ih_all_hex(name + 4, 16);
	if (!strncmp(name, "naa.", 4))
		return (len == 20 && ih_all_hex(name + 4, 16)) ||
		       (len == 36 && ih_all_hex(name + 4, 32));
	return false;
}

struct ih_tpg *ih_tpg_lookup(const char *target, u16 tpgt)
{
	struct ih_tpg *tpg;

	lockdep_assert_held(&ih_lock);
	list_for_each_entry(tpg, &ih_tpg_list, node)
		if (tpg->tpgt == tpgt && !tpg->dying &&
		    !strcmp(tpg->tiqn->name, target))
			return tpg;
	return NULL;
}

static inline struct ih_tpg *to_ih_tpg(struct se_portal_group *se_tpg)
{
	return container_of(se_tpg, struct ih_tpg, se_tpg);
}

/* ------------------------------------------------------------ wwn and tpg */

static struct se_wwn *ih_make_wwn(struct target_fabric_configfs *tf,
				  struct config_group *group, const char *name)
{
	struct ih_tiqn *tiqn;

	if (!ih_valid_iscsi_name(name)) {
		pr_warn("iscsi_handoff: \"%s\" is not an iSCSI name (iqn., eui. or naa., lowercase)\n",
			name);
		return ERR_PTR(-EINVAL);
	}
	tiqn = kzalloc(sizeof(*tiqn), GFP_KERNEL);
	if (!tiqn)
		return ERR_PTR(-ENOMEM);
	strscpy(tiqn->name, name, sizeof(tiqn->name));
	return &tiqn->wwn;
}

static void ih_drop_wwn(struct se_wwn *wwn)
{
	kfree(container_of(wwn, struct ih_tiqn, wwn));
}

static struct se_portal_group *ih_make_tpg(struct se_wwn *wwn, const char *name)
{
	struct ih_tiqn *tiqn = container_of(wwn, struct ih_tiqn, wwn);
	struct ih_tpg *tpg;
	u16 tpgt;
	int ret;

	if (strncmp(name, "tpgt_", 5) || kstrtou16(name + 5, 10, &tpgt) || tpgt == 0) {
		pr_warn("iscsi_handoff: portal group \"%s\" must be tpgt_N with N in 1..65535\n", name);
		return ERR_PTR(-EINVAL);
	}
	tpg = kzalloc(sizeof(*tpg), GFP_KERNEL);
	if (!tpg)
		return ERR_PTR(-ENOMEM);
	tpg->tiqn = tiqn;
	tpg->tpgt = tpgt;
	tpg->demo_mode_write_protect = 1;
	tpg->cache_dynamic_acls = 0;
	tpg->default_cmdsn_depth = IH_DEFAULT_DEPTH;
	tpg->nopin_interval = IH_NOPIN_DEFAULT_INTERVAL;
	tpg->nopin_timeout = IH_NOPIN_DEFAULT_TIMEOUT;
	INIT_LIST_HEAD(&tpg->node);

	ret = core_tpg_register(wwn, &tpg->se_tpg, SCSI_PROTOCOL_ISCSI);
	if (ret < 0) {
		kfree(tpg);
		return ERR_PTR(ret);
	}
	mutex_lock(&ih_lock);
	list_add_tail(&tpg->node, &ih_tpg_list);
	mutex_unlock(&ih_lock);
	return &tpg->se_tpg;
}

static void ih_drop_tpg(struct se_portal_group *se_tpg)
{
	struct ih_tpg *tpg = to_ih_tpg(se_tpg);

	mutex_lock(&ih_lock);
	tpg->dying = true;
	list_del_init(&tpg->node);
	mutex_unlock(&ih_lock);

	/* Sessions hold the TPG's se_tpg; end them before it goes. */
	ih_close_tpg_sessions(tpg, ISCSI_HANDOFF_REASON_CONFIG_REMOVED);

	core_tpg_deregister(se_tpg);
	kfree(tpg->discovery_text);
	kfree(tpg);
}

static int ih_enable_tpg(struct se_portal_group *se_tpg, bool enable)
{
	struct ih_tpg *tpg = to_ih_tpg(se_tpg);

	/*
	 * Disabling stops new handoffs (checked under ih_lock at HANDOFF);
	 * running sessions are left alone, as LIO's iSCSI fabric does for
	 * the data path. An administrator ends them with SESSION_TERMINATE.
	 */
	pr_info("iscsi_handoff: %s tpgt %u %s\n", tpg->tiqn->name, tpg->tpgt,
		enable ? "enabled" : "disabled");
	return 0;
}

static int ih_init_nodeacl(struct se_node_acl *se_nacl, const char *name)
{
	if (!ih_valid_iscsi_name(name)) {
		pr_warn("iscsi_handoff: ACL \"%s\" is not an iSCSI name\n", name);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------- tpg attributes */

#define IH_TPG_ATTR(name, min, max)						\
static ssize_t ih_tpg_attrib_##name##_show(struct config_item *item,		\
					   char *page)				\
{										\
	struct ih_tpg *tpg = to_ih_tpg(attrib_to_tpg(item));			\
	return sysfs_emit(page, "%u\n", tpg->name);				\
}										\
static ssize_t ih_tpg_attrib_##name##_store(struct config_item *item,		\
					    const char *page, size_t count)	\
{										\
	struct ih_tpg *tpg = to_ih_tpg(attrib_to_tpg(item));			\
	u32 val;								\
	int ret = kstrtou32(page, 0, &val);					\
	if (ret)								\
		return ret;							\
	if (val < (min) || val > (max))						\
		return -EINVAL;							\
	tpg->name = val;							\
	return count;								\
}										\
CONFIGFS_ATTR(ih_tpg_attrib_, name)

IH_TPG_ATTR(generate_node_acls, 0, 1);
IH_TPG_ATTR(demo_mode_write_protect, 0, 1);
IH_TPG_ATTR(prod_mode_write_protect, 0, 1);
IH_TPG_ATTR(cache_dynamic_acls, 0, 1);
IH_TPG_ATTR(default_cmdsn_depth, 1, IH_MAX_QUEUE_DEPTH);
IH_TPG_ATTR(demo_mode_discovery, 0, 1);
IH_TPG_ATTR(nopin_interval, 0, IH_NOPIN_MAX);	/* NOP-In pings, nop.c */
IH_TPG_ATTR(nopin_timeout, 0, IH_NOPIN_MAX);

static struct configfs_attribute *ih_tpg_attrib_attrs[] = {
	&ih_tpg_attrib_attr_generate_node_acls,
	&ih_tpg_attrib_attr_demo_mode_write_protect,
	&ih_tpg_attrib_attr_prod_mode_write_protect,
	&ih_tpg_attrib_attr_cache_dynamic_acls,
	&ih_tpg_attrib_attr_default_cmdsn_depth,
	&ih_tpg_attrib_attr_demo_mode_discovery,
	&ih_tpg_attrib_attr_nopin_interval,
	&ih_tpg_attrib_attr_nopin_timeout,
	NULL,
};

/* acls/<name>/cmdsn_depth, as in LIO's iSCSI fabric */
static ssize_t ih_nacl_cmdsn_depth_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", acl_to_nacl(item)->queue_depth);
}

static ssize_t ih_nacl_cmdsn_depth_store(struct config_item *item,
					 const char *page, size_t count)
{
	struct se_node_acl *se_nacl = acl_to_nacl(item);
	u32 val;
	int ret = kstrtou32(page, 0, &val);

	if (ret)
		return ret;
	if (val < 1 || val > IH_MAX_QUEUE_DEPTH)
		return -EINVAL;
	/* New sessions use it; live ones keep the window they started with. */
	ret = core_tpg_set_initiator_node_queue_depth(se_nacl, val);
	return ret < 0 ? ret : count;
}
CONFIGFS_ATTR(ih_nacl_, cmdsn_depth);

static struct configfs_attribute *ih_nacl_base_attrs[] = {
	&ih_nacl_attr_cmdsn_depth,
	NULL,
};

/* ---------------------------------------------------------- tpg callbacks */

static char *ih_get_fabric_wwn(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->tiqn->name;
}

static u16 ih_get_tag(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->tpgt;
}

static u32 ih_get_default_depth(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->default_cmdsn_depth;
}

static int ih_check_demo_mode(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->generate_node_acls;
}

static int ih_check_demo_mode_cache(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->cache_dynamic_acls;
}

static int ih_check_demo_mode_write_protect(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->demo_mode_write_protect;
}

static int ih_check_prod_mode_write_protect(struct se_portal_group *se_tpg)
{
	return to_ih_tpg(se_tpg)->prod_mode_write_protect;
}

static u32 ih_tpg_get_inst_index(struct se_portal_group *se_tpg)
{
	return 1;
}

static u32 ih_sess_get_index(struct se_session *se_sess)
{
	struct ih_sess *sess = se_sess->fabric_sess_ptr;

	return sess ? sess->tsih : 0;
}

static u32 ih_sess_get_initiator_sid(struct se_session *se_sess,
				     unsigned char *buf, u32 size)
{
	struct ih_sess *sess = se_sess->fabric_sess_ptr;

	/* The ISID is the iSCSI part of the I_T nexus TransportID (SPC-4 7.6.4.6). */
	return snprintf(buf, size, "%6phN", sess->isid);
}

static void ih_set_default_node_attributes(struct se_node_acl *se_nacl)
{
}

static int ih_get_cmd_state(struct se_cmd *se_cmd)
{
	return 0;
}

static void ih_close_session_cb(struct se_session *se_sess)
{
	struct ih_sess *sess = se_sess->fabric_sess_ptr;

	/* Called by target core when an ACL with a live session is removed. */
	if (sess)
		ih_sess_close(sess, ISCSI_HANDOFF_REASON_CONFIG_REMOVED);
}

const struct target_core_fabric_ops ih_fabric_ops = {
	.module				= THIS_MODULE,
	.fabric_name			= IH_FABRIC_NAME,
	.node_acl_size			= sizeof(struct ih_nacl),
	.tpg_get_wwn			= ih_get_fabric_wwn,
	.tpg_get_tag			= ih_get_tag,
	.tpg_get_default_depth		= ih_get_default_depth,
	.tpg_check_demo_mode		= ih_check_demo_mode,
	.tpg_check_demo_mode_cache	= ih_check_demo_mode_cache,
	.tpg_check_demo_mode_write_protect = ih_check_demo_mode_write_protect,
	.tpg_check_prod_mode_write_protect = ih_check_prod_mode_write_protect,
	.tpg_get_inst_index		= ih_tpg_get_inst_index,
	.check_stop_free		= ih_check_stop_free,
	.release_cmd			= ih_release_cmd,
	.close_session			= ih_close_session_cb,
	.sess_get_index			= ih_sess_get_index,
	.sess_get_initiator_sid		= ih_sess_get_initiator_sid,
	.write_pending			= ih_write_pending,
	.set_default_node_attributes	= ih_set_default_node_attributes,
	.get_cmd_state			= ih_get_cmd_state,
	.queue_data_in			= ih_queue_data_in,
	.queue_status			= ih_queue_status,
	.queue_tm_rsp			= ih_queue_tm_rsp,
	.aborted_task			= ih_aborted_task,
	.fabric_make_wwn		= ih_make_wwn,
	.fabric_drop_wwn		= ih_drop_wwn,
	.fabric_make_tpg		= ih_make_tpg,
	.fabric_enable_tpg		= ih_enable_tpg,
	.fabric_drop_tpg		= ih_drop_tpg,
	.fabric_init_nodeacl		= ih_init_nodeacl,
	.tfc_tpg_attrib_attrs		= ih_tpg_attrib_attrs,
	.tfc_tpg_nacl_base_attrs	= ih_nacl_base_attrs,
	/* iSCSI requires the whole Data-Out buffer before an abort completes. */
	.write_pending_must_be_called	= true,
};
