// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the generic netlink family ISCSI_HANDOFF v1: policies, the
 * command handlers and the multicast events. Every request is treated as
 * hostile: the policies bound every value, the handlers check what policies
 * cannot express (presence, cross-attribute rules) and say why in extack.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <target/target_core_base.h>

#include "ih.h"

static struct genl_family ih_genl_family;

enum { IH_MCGRP_EVENTS };

static const struct genl_multicast_group ih_mcgrps[] = {
	[IH_MCGRP_EVENTS] = { .name = ISCSI_HANDOFF_MCGRP_EVENTS },
};

/* ---------------------------------------------------------------- policies */

static struct netlink_range_validation ih_dsl_range = {
	.min = ISCSI_HANDOFF_DSL_MIN, .max = ISCSI_HANDOFF_DSL_MAX,
};
static struct netlink_range_validation ih_burst_range = {
	.min = ISCSI_HANDOFF_BURST_MIN, .max = ISCSI_HANDOFF_BURST_MAX,
};
static struct netlink_range_validation ih_r2t_range = {
	.min = 1, .max = ISCSI_HANDOFF_R2T_MAX,
};
static struct netlink_range_validation ih_time_range = {
	.min = 0, .max = ISCSI_HANDOFF_TIME2WAIT_MAX,
};
static struct netlink_range_validation ih_conns_range = {
	.min = 1, .max = ISCSI_HANDOFF_MAX_CONNECTIONS,
};
static struct netlink_range_validation ih_deadline_range = {
	.min = 1, .max = 3600,
};
static struct netlink_range_validation ih_reason_range = {
	.min = 0, .max = ISCSI_HANDOFF_REASON_CONFIG_REMOVED,
};

static const struct nla_policy ih_param_policy[ISCSI_HANDOFF_PARAM_MAX + 1] = {
	[ISCSI_HANDOFF_PARAM_HEADER_DIGEST]	= NLA_POLICY_MAX(NLA_U8, ISCSI_HANDOFF_DIGEST_CRC32C),
	[ISCSI_HANDOFF_PARAM_DATA_DIGEST]	= NLA_POLICY_MAX(NLA_U8, ISCSI_HANDOFF_DIGEST_CRC32C),
	[ISCSI_HANDOFF_PARAM_MAX_RECV_DSL]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_dsl_range),
	[ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_dsl_range),
	[ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_burst_range),
	[ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH] = NLA_POLICY_FULL_RANGE(NLA_U32, &ih_burst_range),
	[ISCSI_HANDOFF_PARAM_INITIAL_R2T]	= NLA_POLICY_MAX(NLA_U8, 1),
	[ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA]	= NLA_POLICY_MAX(NLA_U8, 1),
	[ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T] = NLA_POLICY_FULL_RANGE(NLA_U32, &ih_r2t_range),
	[ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER]	= NLA_POLICY_MAX(NLA_U8, 1),
	[ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER] = NLA_POLICY_MAX(NLA_U8, 1),
	[ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL] = NLA_POLICY_MAX(NLA_U8, ISCSI_HANDOFF_ERL_MAX),
	[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_time_range),
	[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN] = NLA_POLICY_FULL_RANGE(NLA_U32, &ih_time_range),
	[ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_conns_range),
};

static const struct nla_policy ih_policy[ISCSI_HANDOFF_ATTR_MAX + 1] = {
	[ISCSI_HANDOFF_ATTR_FD]			= { .type = NLA_U32 },
	[ISCSI_HANDOFF_ATTR_TARGET_NAME]	= { .type = NLA_NUL_STRING, .len = ISCSI_HANDOFF_NAME_MAX },
	[ISCSI_HANDOFF_ATTR_TPGT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[ISCSI_HANDOFF_ATTR_INITIATOR_NAME]	= { .type = NLA_NUL_STRING, .len = ISCSI_HANDOFF_NAME_MAX },
	[ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS]	= { .type = NLA_NUL_STRING, .len = ISCSI_HANDOFF_ALIAS_MAX },
	[ISCSI_HANDOFF_ATTR_ISID]		= NLA_POLICY_EXACT_LEN(ISCSI_HANDOFF_ISID_LEN),
	[ISCSI_HANDOFF_ATTR_TSIH]		= NLA_POLICY_MIN(NLA_U16, 1),
	[ISCSI_HANDOFF_ATTR_CID]		= { .type = NLA_U16 },
	[ISCSI_HANDOFF_ATTR_SESSION_TYPE]	= NLA_POLICY_RANGE(NLA_U8, ISCSI_HANDOFF_SESSION_NORMAL,
								   ISCSI_HANDOFF_SESSION_NORMAL),
	[ISCSI_HANDOFF_ATTR_PEER_ADDR]		= NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct sockaddr_in),
								   sizeof(struct sockaddr_in6)),
	[ISCSI_HANDOFF_ATTR_LOCAL_ADDR]		= NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct sockaddr_in),
								   sizeof(struct sockaddr_in6)),
	[ISCSI_HANDOFF_ATTR_CMDSN]		= { .type = NLA_U32 },
	[ISCSI_HANDOFF_ATTR_STATSN]		= { .type = NLA_U32 },
	[ISCSI_HANDOFF_ATTR_EXP_STATSN]		= { .type = NLA_U32 },
	[ISCSI_HANDOFF_ATTR_NEGOTIATED]		= NLA_POLICY_NESTED(ih_param_policy),
	[ISCSI_HANDOFF_ATTR_CHAP_USER]		= { .type = NLA_NUL_STRING, .len = ISCSI_HANDOFF_CHAP_USER_MAX },
	[ISCSI_HANDOFF_ATTR_SESSION_HANDLE]	= NLA_POLICY_MIN(NLA_U64, 1),
	[ISCSI_HANDOFF_ATTR_REASON]		= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_reason_range),
	[ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ih_deadline_range),
	/* An attribute cannot exceed 64 KiB anyway: IH_DISCOVERY_TEXT_MAX holds by construction. */
	[ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT]	= { .type = NLA_BINARY },
};

/* --------------------------------------------------------------- helpers */

/* Missing attribute: extack carries its type (MISS_TYPE) and a message. */
#define IH_REQUIRE(info, attr) ({						\
	int __missing = GENL_REQ_ATTR_CHECK(info, attr);			\
	if (__missing)								\
		NL_SET_ERR_MSG((info)->extack, "a required attribute is missing");	\
	__missing;								\
})

static int ih_reply_simple(struct genl_info *info, u8 cmd,
			   int (*fill)(struct sk_buff *skb, void *arg), void *arg)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	void *hdr;
	int ret;

	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put_reply(skb, info, &ih_genl_family, 0, cmd);
	if (!hdr) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	ret = fill(skb, arg);
	if (ret) {
		nlmsg_free(skb);
		return ret;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static bool ih_sockaddr_ok(const struct nlattr *a)
{
	const struct sockaddr *sa = nla_data(a);

	if (sa->sa_family == AF_INET)
		return nla_len(a) >= sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return nla_len(a) >= sizeof(struct sockaddr_in6);
	return false;
}

/* ----------------------------------------------------------------- HANDOFF */

static void ih_param_missing(struct netlink_ext_ack *extack, const struct nlattr *nest, int i)
{
	/* extack keeps a pointer to the message: each must be a literal. */
	switch (i) {
	case ISCSI_HANDOFF_PARAM_HEADER_DIGEST:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks HeaderDigest");
		break;
	case ISCSI_HANDOFF_PARAM_DATA_DIGEST:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks DataDigest");
		break;
	case ISCSI_HANDOFF_PARAM_MAX_RECV_DSL:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks the target's MaxRecvDataSegmentLength");
		break;
	case ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks the initiator's MaxRecvDataSegmentLength");
		break;
	case ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks MaxBurstLength");
		break;
	case ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks FirstBurstLength");
		break;
	case ISCSI_HANDOFF_PARAM_INITIAL_R2T:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks InitialR2T");
		break;
	case ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks ImmediateData");
		break;
	case ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks MaxOutstandingR2T");
		break;
	case ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks DataPDUInOrder");
		break;
	case ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks DataSequenceInOrder");
		break;
	case ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks ErrorRecoveryLevel");
		break;
	case ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks DefaultTime2Wait");
		break;
	case ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks DefaultTime2Retain");
		break;
	case ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks MaxConnections");
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, nest, "NEGOTIATED lacks a parameter");
		break;
	}
}

static int ih_parse_params(struct genl_info *info, struct ih_params *p)
{
	struct nlattr *tb[ISCSI_HANDOFF_PARAM_MAX + 1];
	struct nlattr *nest = info->attrs[ISCSI_HANDOFF_ATTR_NEGOTIATED];
	struct netlink_ext_ack *extack = info->extack;
	int i, ret;

	ret = nla_parse_nested(tb, ISCSI_HANDOFF_PARAM_MAX, nest, ih_param_policy, extack);
	if (ret)
		return ret;
	for (i = 1; i <= ISCSI_HANDOFF_PARAM_MAX; i++) {
		if (!tb[i]) {
			ih_param_missing(extack, nest, i);
			return -EINVAL;
		}
	}
	p->header_digest = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_HEADER_DIGEST]);
	p->data_digest = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_DATA_DIGEST]);
	p->max_recv_dsl = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_MAX_RECV_DSL]);
	p->max_xmit_dsl = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL]);
	p->max_burst = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH]);
	p->first_burst = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH]);
	p->initial_r2t = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_INITIAL_R2T]);
	p->immediate_data = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA]);
	p->max_outstanding_r2t = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T]);
	p->data_pdu_in_order = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER]);
	p->data_seq_in_order = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER]);
	p->erl = nla_get_u8(tb[ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL]);
	p->time2wait = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT]);
	p->time2retain = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN]);
	p->max_connections = nla_get_u32(tb[ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS]);

	/* Cross rules the policy cannot express. */
	if (p->first_burst > p->max_burst) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH],
				    "FirstBurstLength exceeds MaxBurstLength (RFC 7143 s.13.14)");
		return -EINVAL;
	}
	if (p->max_recv_dsl > IH_MAX_DSL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ISCSI_HANDOFF_PARAM_MAX_RECV_DSL],
				    "MaxRecvDataSegmentLength above the module's limit (see GET_LIMITS)");
		return -ERANGE;
	}
	if (p->erl != 0) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL],
				    "only ErrorRecoveryLevel 0 is implemented");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int ih_fill_handles(struct sk_buff *skb, void *arg)
{
	u64 *h = arg;

	if (nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_SESSION_HANDLE, h[0], ISCSI_HANDOFF_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_CONN_HANDLE, h[1], ISCSI_HANDOFF_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

static int ih_nl_handoff(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **a = info->attrs;
	struct ih_handoff_req *req;
	u64 handles[2];
	int ret;

	if (IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_FD) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_TARGET_NAME) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_TPGT) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_INITIATOR_NAME) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_ISID) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_TSIH) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_CID) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_SESSION_TYPE) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_CMDSN) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_STATSN) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_EXP_STATSN) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_NEGOTIATED))
		return -EINVAL;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	req->fd = nla_get_u32(a[ISCSI_HANDOFF_ATTR_FD]);
	req->target = nla_data(a[ISCSI_HANDOFF_ATTR_TARGET_NAME]);
	req->tpgt = nla_get_u16(a[ISCSI_HANDOFF_ATTR_TPGT]);
	req->initiator = nla_data(a[ISCSI_HANDOFF_ATTR_INITIATOR_NAME]);
	if (a[ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS])
		req->alias = nla_data(a[ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS]);
	if (a[ISCSI_HANDOFF_ATTR_CHAP_USER])
		req->chap_user = nla_data(a[ISCSI_HANDOFF_ATTR_CHAP_USER]);
	nla_memcpy(req->isid, a[ISCSI_HANDOFF_ATTR_ISID], sizeof(req->isid));
	req->tsih = nla_get_u16(a[ISCSI_HANDOFF_ATTR_TSIH]);
	req->cid = nla_get_u16(a[ISCSI_HANDOFF_ATTR_CID]);
	req->cmdsn = nla_get_u32(a[ISCSI_HANDOFF_ATTR_CMDSN]);
	req->statsn = nla_get_u32(a[ISCSI_HANDOFF_ATTR_STATSN]);
	req->exp_statsn = nla_get_u32(a[ISCSI_HANDOFF_ATTR_EXP_STATSN]);

	ret = -EINVAL;
	if (req->fd > INT_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, a[ISCSI_HANDOFF_ATTR_FD], "FD out of range");
		ret = -EBADF;
		goto out;
	}
	if (!ih_valid_iscsi_name(req->target)) {
		NL_SET_ERR_MSG_ATTR(extack, a[ISCSI_HANDOFF_ATTR_TARGET_NAME],
				    "TARGET_NAME is not an iSCSI name (RFC 3722)");
		goto out;
	}
	if (!ih_valid_iscsi_name(req->initiator)) {
		NL_SET_ERR_MSG_ATTR(extack, a[ISCSI_HANDOFF_ATTR_INITIATOR_NAME],
				    "INITIATOR_NAME is not an iSCSI name (RFC 3722)");
		goto out;
	}
	if (a[ISCSI_HANDOFF_ATTR_PEER_ADDR]) {
		if (!ih_sockaddr_ok(a[ISCSI_HANDOFF_ATTR_PEER_ADDR])) {
			NL_SET_ERR_MSG_ATTR(extack, a[ISCSI_HANDOFF_ATTR_PEER_ADDR],
					    "PEER_ADDR is not a sockaddr_in or sockaddr_in6");
			goto out;
		}
		req->peer_len = nla_len(a[ISCSI_HANDOFF_ATTR_PEER_ADDR]);
		memcpy(&req->peer, nla_data(a[ISCSI_HANDOFF_ATTR_PEER_ADDR]), req->peer_len);
	}
	if (a[ISCSI_HANDOFF_ATTR_LOCAL_ADDR]) {
		if (!ih_sockaddr_ok(a[ISCSI_HANDOFF_ATTR_LOCAL_ADDR])) {
			NL_SET_ERR_MSG_ATTR(extack, a[ISCSI_HANDOFF_ATTR_LOCAL_ADDR],
					    "LOCAL_ADDR is not a sockaddr_in or sockaddr_in6");
			goto out;
		}
		req->local_len = nla_len(a[ISCSI_HANDOFF_ATTR_LOCAL_ADDR]);
		memcpy(&req->local, nla_data(a[ISCSI_HANDOFF_ATTR_LOCAL_ADDR]), req->local_len);
	}
	ret = ih_parse_params(info, &req->params);
	if (ret)
		goto out;

	ret = ih_handoff(req, extack, &handles[0], &handles[1]);
	if (ret) {
		/* ih_handoff names the cause; point at the attribute it concerns. */
		if (ret == -EBADF || ret == -ENOTSOCK || ret == -EPROTONOSUPPORT || ret == -ENOTCONN)
			NL_SET_BAD_ATTR(extack, a[ISCSI_HANDOFF_ATTR_FD]);
		else if (ret == -ENOENT || ret == -ENODEV)
			NL_SET_BAD_ATTR(extack, a[ISCSI_HANDOFF_ATTR_TPGT]);
		else if (ret == -EACCES)
			NL_SET_BAD_ATTR(extack, a[ISCSI_HANDOFF_ATTR_INITIATOR_NAME]);
		else if (ret == -EEXIST || ret == -EMLINK)
			NL_SET_BAD_ATTR(extack, a[ISCSI_HANDOFF_ATTR_TSIH]);
		goto out;
	}
	ret = ih_reply_simple(info, ISCSI_HANDOFF_CMD_HANDOFF, ih_fill_handles, handles);
out:
	kfree(req);
	return ret;
}

/* ------------------------------------------------------------ SESSION_LIST */

static int ih_put_stats(struct sk_buff *skb, int attr, struct ih_stats *st)
{
	struct nlattr *n = nla_nest_start(skb, attr);

	if (!n ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_COMMANDS, atomic64_read(&st->commands), ISCSI_HANDOFF_STATS_PAD) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_READ_BYTES, atomic64_read(&st->read_bytes), ISCSI_HANDOFF_STATS_PAD) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_WRITE_BYTES, atomic64_read(&st->write_bytes), ISCSI_HANDOFF_STATS_PAD) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_ERRORS, atomic64_read(&st->errors), ISCSI_HANDOFF_STATS_PAD) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_STATS_IN_FLIGHT, max(0, atomic_read(&st->in_flight))) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_DIGEST_ERRORS, atomic64_read(&st->digest_errors), ISCSI_HANDOFF_STATS_PAD) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_STATS_REJECTS, atomic64_read(&st->rejects), ISCSI_HANDOFF_STATS_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, n);
	return 0;
}

static int ih_put_params(struct sk_buff *skb, const struct ih_params *p)
{
	struct nlattr *n = nla_nest_start(skb, ISCSI_HANDOFF_ATTR_NEGOTIATED);

	if (!n ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_HEADER_DIGEST, p->header_digest) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_DATA_DIGEST, p->data_digest) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_MAX_RECV_DSL, p->max_recv_dsl) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL, p->max_xmit_dsl) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH, p->max_burst) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH, p->first_burst) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_INITIAL_R2T, p->initial_r2t) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA, p->immediate_data) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T, p->max_outstanding_r2t) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER, p->data_pdu_in_order) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER, p->data_seq_in_order) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL, p->erl) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT, p->time2wait) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN, p->time2retain) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS, p->max_connections))
		return -EMSGSIZE;
	nla_nest_end(skb, n);
	return 0;
}

static u8 ih_conn_state_attr(struct ih_conn *conn)
{
	switch (atomic_read(&conn->state)) {
	case IH_CONN_RUNNING:
		return ISCSI_HANDOFF_CONN_STATE_FULL_FEATURE;
	case IH_CONN_LOGGED_OUT:
		return ISCSI_HANDOFF_CONN_STATE_LOGGED_OUT;
	default:
		return ISCSI_HANDOFF_CONN_STATE_CLOSING;
	}
}

static int ih_put_conn(struct sk_buff *skb, struct ih_conn *conn)
{
	struct ih_params *p = &conn->sess->params;
	struct nlattr *n = nla_nest_start(skb, ISCSI_HANDOFF_ATTR_CONNECTION);

	if (!n ||
	    nla_put_u16(skb, ISCSI_HANDOFF_CONN_CID, conn->cid) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_CONN_HANDLE, conn->handle, ISCSI_HANDOFF_CONN_PAD) ||
	    (conn->peer_len && nla_put(skb, ISCSI_HANDOFF_CONN_PEER_ADDR, conn->peer_len, &conn->peer)) ||
	    (conn->local_len && nla_put(skb, ISCSI_HANDOFF_CONN_LOCAL_ADDR, conn->local_len, &conn->local)) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_CONN_STATE, ih_conn_state_attr(conn)) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_CONN_HEADER_DIGEST, p->header_digest) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_CONN_DATA_DIGEST, p->data_digest) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_CONN_MAX_RECV_DSL, p->max_recv_dsl) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_CONN_MAX_XMIT_DSL, p->max_xmit_dsl) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_CONN_STATSN, READ_ONCE(conn->stat_sn)) ||
	    ih_put_stats(skb, ISCSI_HANDOFF_CONN_STATS, &conn->stats))
		return -EMSGSIZE;
	nla_nest_end(skb, n);
	return 0;
}

static int ih_fill_session(struct sk_buff *skb, struct ih_sess *sess, u32 portid,
			   u32 seq, int flags)
{
	struct nlattr *conns;
	struct ih_conn *conn;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &ih_genl_family, flags,
			  ISCSI_HANDOFF_CMD_SESSION_LIST);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_SESSION_HANDLE, sess->handle, ISCSI_HANDOFF_ATTR_PAD) ||
	    nla_put_string(skb, ISCSI_HANDOFF_ATTR_TARGET_NAME, sess->target) ||
	    nla_put_u16(skb, ISCSI_HANDOFF_ATTR_TPGT, sess->tpgt) ||
	    nla_put_string(skb, ISCSI_HANDOFF_ATTR_INITIATOR_NAME, sess->initiator) ||
	    (sess->alias[0] && nla_put_string(skb, ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS, sess->alias)) ||
	    (sess->chap_user[0] && nla_put_string(skb, ISCSI_HANDOFF_ATTR_CHAP_USER, sess->chap_user)) ||
	    nla_put(skb, ISCSI_HANDOFF_ATTR_ISID, ISCSI_HANDOFF_ISID_LEN, sess->isid) ||
	    nla_put_u16(skb, ISCSI_HANDOFF_ATTR_TSIH, sess->tsih) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_ATTR_SESSION_TYPE, ISCSI_HANDOFF_SESSION_NORMAL) ||
	    nla_put_u8(skb, ISCSI_HANDOFF_ATTR_SESSION_STATE, sess->state) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_EXP_CMDSN, ih_sess_exp_cmdsn(sess)) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_MAX_CMDSN, ih_sess_max_cmdsn(sess)) ||
	    nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_START_TIME, sess->start_time, ISCSI_HANDOFF_ATTR_PAD) ||
	    ih_put_params(skb, &sess->params) ||
	    ih_put_stats(skb, ISCSI_HANDOFF_ATTR_STATS, &sess->stats))
		goto cancel;
	conns = nla_nest_start(skb, ISCSI_HANDOFF_ATTR_CONNECTIONS);
	if (!conns)
		goto cancel;
	list_for_each_entry(conn, &sess->conns, sess_node)
		if (ih_put_conn(skb, conn))
			goto cancel;
	nla_nest_end(skb, conns);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int ih_nl_session_list(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ih_sess *sess;
	long idx = 0, start = cb->args[0];

	mutex_lock(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node) {
		if (idx++ < start)
			continue;
		if (ih_fill_session(skb, sess, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&ih_lock);
	cb->args[0] = idx;
	return skb->len;
}

/* -------------------------------------------------------------- terminate */

static struct ih_sess *ih_nl_get_sess(struct genl_info *info)
{
	struct nlattr *a = info->attrs[ISCSI_HANDOFF_ATTR_SESSION_HANDLE];
	struct ih_sess *sess;

	lockdep_assert_held(&ih_lock);
	sess = ih_sess_find(nla_get_u64(a));
	if (!sess)
		NL_SET_ERR_MSG_ATTR(info->extack, a, "no live session with this handle");
	return sess;
}

static u32 ih_nl_reason(struct genl_info *info)
{
	struct nlattr *a = info->attrs[ISCSI_HANDOFF_ATTR_REASON];

	return a ? nla_get_u32(a) : ISCSI_HANDOFF_REASON_ADMIN;
}

static int ih_nl_conn_terminate(struct sk_buff *skb, struct genl_info *info)
{
	struct ih_sess *sess;
	struct ih_conn *conn;
	u16 cid;
	int ret = -ENOENT;

	if (IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_SESSION_HANDLE) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_CID))
		return -EINVAL;
	cid = nla_get_u16(info->attrs[ISCSI_HANDOFF_ATTR_CID]);
	mutex_lock(&ih_lock);
	sess = ih_nl_get_sess(info);
	if (sess) {
		list_for_each_entry(conn, &sess->conns, sess_node) {
			if (conn->cid == cid) {
				ih_conn_close(conn, ih_nl_reason(info));
				ret = 0;
			}
		}
		if (ret)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ISCSI_HANDOFF_ATTR_CID],
					    "session has no connection with this CID");
	}
	mutex_unlock(&ih_lock);
	return ret;
}

static int ih_nl_session_terminate(struct sk_buff *skb, struct genl_info *info)
{
	struct ih_sess *sess;
	struct ih_conn *conn;
	int ret = -ENOENT;

	if (IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_SESSION_HANDLE))
		return -EINVAL;
	mutex_lock(&ih_lock);
	sess = ih_nl_get_sess(info);
	if (sess) {
		u32 reason = ih_nl_reason(info);

		if (!sess->down_reason)
			sess->down_reason = reason;
		sess->state = ISCSI_HANDOFF_SESSION_STATE_CLOSING;
		list_for_each_entry(conn, &sess->conns, sess_node)
			ih_conn_close(conn, reason);
		ret = 0;
	}
	mutex_unlock(&ih_lock);
	return ret;
}

static int ih_nl_session_logout(struct sk_buff *skb, struct genl_info *info)
{
	struct ih_sess *sess;
	int ret = -ENOENT;

	if (IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_SESSION_HANDLE) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE))
		return -EINVAL;
	mutex_lock(&ih_lock);
	sess = ih_nl_get_sess(info);
	if (sess) {
		if (sess->state == ISCSI_HANDOFF_SESSION_STATE_CLOSING) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ISCSI_HANDOFF_ATTR_SESSION_HANDLE],
					    "session is already closing");
			ret = -EALREADY;
		} else {
			ih_sess_request_logout(sess,
					       nla_get_u32(info->attrs[ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE]));
			ret = 0;
		}
	}
	mutex_unlock(&ih_lock);
	return ret;
}

/* ----------------------------------------------------- limits and version */

static int ih_fill_limits(struct sk_buff *skb, void *arg)
{
	if (nla_put_u32(skb, ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS, IH_MAX_SESSIONS) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS, IH_MAX_CONNS_PER_SESS) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL, IH_MAX_DSL) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST, IH_MAX_BURST) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH, IH_MAX_QUEUE_DEPTH))
		return -EMSGSIZE;
	return 0;
}

static int ih_nl_get_limits(struct sk_buff *skb, struct genl_info *info)
{
	return ih_reply_simple(info, ISCSI_HANDOFF_CMD_GET_LIMITS, ih_fill_limits, NULL);
}

static int ih_fill_version(struct sk_buff *skb, void *arg)
{
	if (nla_put_u32(skb, ISCSI_HANDOFF_ATTR_VERSION_MAJOR, IH_VERSION_MAJOR) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_VERSION_MINOR, IH_VERSION_MINOR) ||
	    nla_put_string(skb, ISCSI_HANDOFF_ATTR_VERSION_STRING, IH_VERSION_STRING))
		return -EMSGSIZE;
	return 0;
}

static int ih_nl_get_version(struct sk_buff *skb, struct genl_info *info)
{
	return ih_reply_simple(info, ISCSI_HANDOFF_CMD_GET_VERSION, ih_fill_version, NULL);
}

/* ------------------------------------------------------- discovery text */

static int ih_nl_set_discovery_text(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct ih_tpg *tpg;
	u8 *copy = NULL;
	u32 len;

	if (IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_TARGET_NAME) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_TPGT) ||
	    IH_REQUIRE(info, ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT))
		return -EINVAL;
	len = nla_len(a[ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT]);
	if (len) {
		copy = kmemdup(nla_data(a[ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT]), len, GFP_KERNEL);
		if (!copy)
			return -ENOMEM;
	}
	mutex_lock(&ih_lock);
	tpg = ih_tpg_lookup(nla_data(a[ISCSI_HANDOFF_ATTR_TARGET_NAME]),
			    nla_get_u16(a[ISCSI_HANDOFF_ATTR_TPGT]));
	if (!tpg) {
		mutex_unlock(&ih_lock);
		kfree(copy);
		NL_SET_ERR_MSG_ATTR(info->extack, a[ISCSI_HANDOFF_ATTR_TPGT],
				    "no such target and portal group in configfs");
		return -ENOENT;
	}
	kfree(tpg->discovery_text);
	tpg->discovery_text = copy;
	tpg->discovery_len = len;
	mutex_unlock(&ih_lock);
	return 0;
}

/* ------------------------------------------------------------------ events */

static void ih_event(u8 cmd, struct ih_sess *sess, struct ih_conn *conn, u32 reason)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	void *hdr;

	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &ih_genl_family, 0, cmd);
	if (!hdr)
		goto fail;
	if (nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_SESSION_HANDLE, sess->handle, ISCSI_HANDOFF_ATTR_PAD) ||
	    nla_put_u16(skb, ISCSI_HANDOFF_ATTR_TSIH, sess->tsih) ||
	    (conn && nla_put_u16(skb, ISCSI_HANDOFF_ATTR_CID, conn->cid)) ||
	    (conn && nla_put_u64_64bit(skb, ISCSI_HANDOFF_ATTR_CONN_HANDLE, conn->handle, ISCSI_HANDOFF_ATTR_PAD)) ||
	    nla_put_string(skb, ISCSI_HANDOFF_ATTR_TARGET_NAME, sess->target) ||
	    nla_put_u16(skb, ISCSI_HANDOFF_ATTR_TPGT, sess->tpgt) ||
	    nla_put_string(skb, ISCSI_HANDOFF_ATTR_INITIATOR_NAME, sess->initiator) ||
	    nla_put(skb, ISCSI_HANDOFF_ATTR_ISID, ISCSI_HANDOFF_ISID_LEN, sess->isid) ||
	    nla_put_u32(skb, ISCSI_HANDOFF_ATTR_REASON, reason))
		goto fail;
	genlmsg_end(skb, hdr);
	/* No listener is fine (-ESRCH): the daemon may be restarting. */
	genlmsg_multicast(&ih_genl_family, skb, 0, IH_MCGRP_EVENTS, GFP_KERNEL);
	return;
fail:
	nlmsg_free(skb);
}

void ih_event_conn_down(struct ih_conn *conn)
{
	ih_event(ISCSI_HANDOFF_CMD_EVENT_CONN_DOWN, conn->sess, conn, conn->down_reason);
}

void ih_event_session_down(struct ih_sess *sess)
{
	ih_event(ISCSI_HANDOFF_CMD_EVENT_SESSION_DOWN, sess, NULL, sess->down_reason);
}

/* ------------------------------------------------------------------ family */

static const struct genl_small_ops ih_ops[] = {
	{
		.cmd	= ISCSI_HANDOFF_CMD_HANDOFF,
		.doit	= ih_nl_handoff,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_SESSION_LIST,
		.dumpit	= ih_nl_session_list,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_CONN_TERMINATE,
		.doit	= ih_nl_conn_terminate,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_SESSION_TERMINATE,
		.doit	= ih_nl_session_terminate,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_SESSION_LOGOUT,
		.doit	= ih_nl_session_logout,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_GET_LIMITS,
		.doit	= ih_nl_get_limits,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_GET_VERSION,
		.doit	= ih_nl_get_version,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= ISCSI_HANDOFF_CMD_SET_DISCOVERY_TEXT,
		.doit	= ih_nl_set_discovery_text,
		.flags	= GENL_ADMIN_PERM,
	},
};

static struct genl_family ih_genl_family __ro_after_init = {
	.name		= ISCSI_HANDOFF_GENL_NAME,
	.version	= ISCSI_HANDOFF_GENL_VERSION,
	.maxattr	= ISCSI_HANDOFF_ATTR_MAX,
	.policy		= ih_policy,
	.netnsok	= false,
	.module		= THIS_MODULE,
	.small_ops	= ih_ops,
	.n_small_ops	= ARRAY_SIZE(ih_ops),
	/* Strict validation for every command: unknown attributes are refused. */
	.resv_start_op	= ISCSI_HANDOFF_CMD_HANDOFF,
	.mcgrps		= ih_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(ih_mcgrps),
};

int ih_genl_init(void)
{
	return genl_register_family(&ih_genl_family);
}

void ih_genl_exit(void)
{
	genl_unregister_family(&ih_genl_family);
}
