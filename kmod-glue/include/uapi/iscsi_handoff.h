/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * iscsi_handoff.h - the one contract between iscsi-targetd (userspace) and
 * iscsi_handoff.ko (a LIO fabric).
 *
 * The daemon performs the whole iSCSI login (RFC 7143 section 6) in
 * userspace. When a Normal session's login completes it sends
 * ISCSI_HANDOFF_CMD_HANDOFF with the established TCP socket's file
 * descriptor and everything that was negotiated; the module resolves the fd
 * in the sender's context, takes a reference on the socket and runs the Full
 * Feature Phase on it.
 *
 * Transport: generic netlink, family ISCSI_HANDOFF_GENL_NAME, version
 * ISCSI_HANDOFF_GENL_VERSION. Every command needs CAP_NET_ADMIN. Every
 * attribute is validated by a policy in the kernel; errors are an errno plus
 * an extended-ack message naming the offending attribute.
 *
 * Compatibility rule: commands and attributes are only ever appended; a
 * number, once published, never changes meaning.
 */
#ifndef _UAPI_ISCSI_HANDOFF_H
#define _UAPI_ISCSI_HANDOFF_H

#include <linux/types.h>

#define ISCSI_HANDOFF_GENL_NAME		"ISCSI_HANDOFF"
#define ISCSI_HANDOFF_GENL_VERSION	1
#define ISCSI_HANDOFF_MCGRP_EVENTS	"events"

/* Protocol limits (RFC 7143 and RFC 3722) shared by both sides. */
#define ISCSI_HANDOFF_NAME_MAX		223	/* iSCSI name, bytes, without NUL (RFC 3722 s.3.1) */
#define ISCSI_HANDOFF_ALIAS_MAX		255	/* TargetAlias/InitiatorAlias value, bytes */
#define ISCSI_HANDOFF_CHAP_USER_MAX	255
#define ISCSI_HANDOFF_ISID_LEN		6
#define ISCSI_HANDOFF_DSL_MIN		512	/* MaxRecvDataSegmentLength range, RFC 7143 s.13.12 */
#define ISCSI_HANDOFF_DSL_MAX		16777215
#define ISCSI_HANDOFF_BURST_MIN		512	/* Max/FirstBurstLength range, s.13.13, s.13.14 */
#define ISCSI_HANDOFF_BURST_MAX		16777215
#define ISCSI_HANDOFF_R2T_MAX		65535	/* MaxOutstandingR2T, s.13.17 */
#define ISCSI_HANDOFF_TIME2WAIT_MAX	3600	/* DefaultTime2Wait/Retain, s.13.15, s.13.16 */
#define ISCSI_HANDOFF_MAX_CONNECTIONS	65535	/* MaxConnections, s.13.2 */
#define ISCSI_HANDOFF_ERL_MAX		2	/* ErrorRecoveryLevel, s.13.20 */

enum iscsi_handoff_cmd {
	ISCSI_HANDOFF_CMD_UNSPEC,
	/*
	 * Request: FD, identity (TARGET_NAME, TPGT, INITIATOR_NAME,
	 * INITIATOR_ALIAS?, ISID, TSIH, CID, SESSION_TYPE, PEER_ADDR,
	 * LOCAL_ADDR), sequence numbers (CMDSN, STATSN, EXP_STATSN),
	 * NEGOTIATED (nested), CHAP_USER?.
	 * A TSIH that names a live session of the same TPG adds a connection
	 * to it (MC/S); otherwise a new session is created with that TSIH.
	 * Reply: SESSION_HANDLE, CONN_HANDLE.
	 */
	ISCSI_HANDOFF_CMD_HANDOFF,
	/* Dump: one message per session (see SESSION_* attributes). */
	ISCSI_HANDOFF_CMD_SESSION_LIST,
	/* Request: SESSION_HANDLE, CID, REASON?. Closes one connection. */
	ISCSI_HANDOFF_CMD_CONN_TERMINATE,
	/* Request: SESSION_HANDLE, REASON?. Closes every connection of the session. */
	ISCSI_HANDOFF_CMD_SESSION_TERMINATE,
	/*
	 * Request: SESSION_HANDLE, LOGOUT_DEADLINE (seconds). Sends an Async
	 * Message "request logout" (RFC 7143 s.11.9.1, AsyncEvent 1); the
	 * session is terminated if it is still there after the deadline.
	 */
	ISCSI_HANDOFF_CMD_SESSION_LOGOUT,
	/* Reply: LIMIT_* attributes. */
	ISCSI_HANDOFF_CMD_GET_LIMITS,
	/* Reply: VERSION_MAJOR, VERSION_MINOR, VERSION_STRING. */
	ISCSI_HANDOFF_CMD_GET_VERSION,
	/* Events, multicast on ISCSI_HANDOFF_MCGRP_EVENTS. */
	ISCSI_HANDOFF_CMD_EVENT_CONN_DOWN,	/* SESSION_HANDLE, TSIH, CID, TARGET_NAME, TPGT, REASON */
	ISCSI_HANDOFF_CMD_EVENT_SESSION_DOWN,	/* SESSION_HANDLE, TSIH, TARGET_NAME, TPGT, REASON */
	/*
	 * Request: TARGET_NAME, TPGT, DISCOVERY_TEXT. Stores the SendTargets
	 * answer the daemon computed for this portal group, so that a Text
	 * Request in the Full Feature Phase (RFC 7143 s.11.10) can be answered
	 * in the kernel. The text is the key=value\0 sequence as sent on the
	 * wire; empty clears it. "TargetAddress=*:port,tpgt" names a wildcard
	 * portal: the kernel puts the address the connection reached in place
	 * of the "*". A Normal session is only told about its own target
	 * (RFC 7143 Appendix C), so the text holds that target only.
	 */
	ISCSI_HANDOFF_CMD_SET_DISCOVERY_TEXT,

	__ISCSI_HANDOFF_CMD_MAX,
};
#define ISCSI_HANDOFF_CMD_MAX (__ISCSI_HANDOFF_CMD_MAX - 1)

enum iscsi_handoff_attr {
	ISCSI_HANDOFF_ATTR_UNSPEC,
	ISCSI_HANDOFF_ATTR_FD,			/* u32: a TCP socket fd in the sender's table */
	ISCSI_HANDOFF_ATTR_TARGET_NAME,		/* NUL-terminated string, <= NAME_MAX */
	ISCSI_HANDOFF_ATTR_TPGT,		/* u16, 1..65535 */
	ISCSI_HANDOFF_ATTR_INITIATOR_NAME,	/* NUL-terminated string, <= NAME_MAX */
	ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS,	/* NUL-terminated string, <= ALIAS_MAX */
	ISCSI_HANDOFF_ATTR_ISID,		/* binary, exactly ISID_LEN bytes, wire order */
	ISCSI_HANDOFF_ATTR_TSIH,		/* u16, non-zero */
	ISCSI_HANDOFF_ATTR_CID,			/* u16 */
	ISCSI_HANDOFF_ATTR_SESSION_TYPE,	/* u8, enum iscsi_handoff_session_type */
	ISCSI_HANDOFF_ATTR_PEER_ADDR,		/* binary struct sockaddr_in or sockaddr_in6 */
	ISCSI_HANDOFF_ATTR_LOCAL_ADDR,		/* binary struct sockaddr_in or sockaddr_in6 */
	ISCSI_HANDOFF_ATTR_CMDSN,		/* u32: CmdSN of the last Login Request = first FFP CmdSN */
	ISCSI_HANDOFF_ATTR_STATSN,		/* u32: the next StatSN the target sends */
	ISCSI_HANDOFF_ATTR_EXP_STATSN,		/* u32: ExpStatSN of the last Login Request */
	ISCSI_HANDOFF_ATTR_NEGOTIATED,		/* nested: enum iscsi_handoff_param_attr */
	ISCSI_HANDOFF_ATTR_CHAP_USER,		/* NUL-terminated string, <= CHAP_USER_MAX */
	ISCSI_HANDOFF_ATTR_SESSION_HANDLE,	/* u64, opaque, non-zero */
	ISCSI_HANDOFF_ATTR_CONN_HANDLE,		/* u64, opaque, non-zero */
	ISCSI_HANDOFF_ATTR_REASON,		/* u32, enum iscsi_handoff_down_reason */
	ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE,	/* u32 seconds, 1..3600 */
	ISCSI_HANDOFF_ATTR_SESSION_STATE,	/* u8, enum iscsi_handoff_session_state */
	ISCSI_HANDOFF_ATTR_EXP_CMDSN,		/* u32 (dump) */
	ISCSI_HANDOFF_ATTR_MAX_CMDSN,		/* u32 (dump) */
	ISCSI_HANDOFF_ATTR_STATS,		/* nested: enum iscsi_handoff_stats_attr (dump) */
	ISCSI_HANDOFF_ATTR_CONNECTIONS,		/* nested array of ISCSI_HANDOFF_ATTR_CONNECTION (dump) */
	ISCSI_HANDOFF_ATTR_CONNECTION,		/* nested: enum iscsi_handoff_conn_attr (dump) */
	ISCSI_HANDOFF_ATTR_VERSION_MAJOR,	/* u32 */
	ISCSI_HANDOFF_ATTR_VERSION_MINOR,	/* u32 */
	ISCSI_HANDOFF_ATTR_VERSION_STRING,	/* string */
	ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS,	/* u32 */
	ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS, /* u32: per session */
	ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL,	/* u32: largest MaxRecvDataSegmentLength the module accepts */
	ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST,	/* u32 */
	ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH,	/* u32: CmdSN window per session */
	ISCSI_HANDOFF_ATTR_START_TIME,		/* u64, CLOCK_REALTIME nanoseconds (dump) */
	ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT,	/* binary, <= 65536 bytes */
	ISCSI_HANDOFF_ATTR_PAD,			/* for nla_put_u64_64bit */

	__ISCSI_HANDOFF_ATTR_MAX,
};
#define ISCSI_HANDOFF_ATTR_MAX (__ISCSI_HANDOFF_ATTR_MAX - 1)

/* Nested in ISCSI_HANDOFF_ATTR_NEGOTIATED: the values of RFC 7143 section 13. */
enum iscsi_handoff_param_attr {
	ISCSI_HANDOFF_PARAM_UNSPEC,
	ISCSI_HANDOFF_PARAM_HEADER_DIGEST,		/* u8, enum iscsi_handoff_digest */
	ISCSI_HANDOFF_PARAM_DATA_DIGEST,		/* u8, enum iscsi_handoff_digest */
	ISCSI_HANDOFF_PARAM_MAX_RECV_DSL,		/* u32: the target's MaxRecvDataSegmentLength */
	ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL,		/* u32: the initiator's MaxRecvDataSegmentLength */
	ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH,		/* u32 */
	ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH,		/* u32, <= MAX_BURST_LENGTH */
	ISCSI_HANDOFF_PARAM_INITIAL_R2T,		/* u8 flag 0/1 */
	ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA,		/* u8 flag 0/1 */
	ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T,	/* u32, 1..R2T_MAX */
	ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER,		/* u8 flag 0/1 */
	ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER,	/* u8 flag 0/1 */
	ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL,	/* u8, 0..ERL_MAX */
	ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT,		/* u32, 0..TIME2WAIT_MAX */
	ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN,	/* u32, 0..TIME2WAIT_MAX */
	ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS,		/* u32, 1..MAX_CONNECTIONS */

	__ISCSI_HANDOFF_PARAM_MAX,
};
#define ISCSI_HANDOFF_PARAM_MAX (__ISCSI_HANDOFF_PARAM_MAX - 1)

/* Nested in ISCSI_HANDOFF_ATTR_STATS (per session) and in each CONNECTION. */
enum iscsi_handoff_stats_attr {
	ISCSI_HANDOFF_STATS_UNSPEC,
	ISCSI_HANDOFF_STATS_COMMANDS,		/* u64: SCSI commands received */
	ISCSI_HANDOFF_STATS_READ_BYTES,		/* u64: Data-In payload bytes sent */
	ISCSI_HANDOFF_STATS_WRITE_BYTES,	/* u64: Data-Out/immediate payload bytes received */
	ISCSI_HANDOFF_STATS_ERRORS,		/* u64: protocol errors (rejects, digest errors, ...) */
	ISCSI_HANDOFF_STATS_IN_FLIGHT,		/* u32: commands currently in target core */
	ISCSI_HANDOFF_STATS_DIGEST_ERRORS,	/* u64 */
	ISCSI_HANDOFF_STATS_REJECTS,		/* u64: Reject PDUs sent */
	ISCSI_HANDOFF_STATS_PAD,

	__ISCSI_HANDOFF_STATS_MAX,
};
#define ISCSI_HANDOFF_STATS_MAX (__ISCSI_HANDOFF_STATS_MAX - 1)

/* Nested in each ISCSI_HANDOFF_ATTR_CONNECTION of a SESSION_LIST dump. */
enum iscsi_handoff_conn_attr {
	ISCSI_HANDOFF_CONN_UNSPEC,
	ISCSI_HANDOFF_CONN_CID,			/* u16 */
	ISCSI_HANDOFF_CONN_HANDLE,		/* u64 */
	ISCSI_HANDOFF_CONN_PEER_ADDR,		/* binary sockaddr_in/in6 */
	ISCSI_HANDOFF_CONN_LOCAL_ADDR,		/* binary sockaddr_in/in6 */
	ISCSI_HANDOFF_CONN_STATE,		/* u8, enum iscsi_handoff_conn_state */
	ISCSI_HANDOFF_CONN_HEADER_DIGEST,	/* u8 */
	ISCSI_HANDOFF_CONN_DATA_DIGEST,		/* u8 */
	ISCSI_HANDOFF_CONN_MAX_RECV_DSL,	/* u32 */
	ISCSI_HANDOFF_CONN_MAX_XMIT_DSL,	/* u32 */
	ISCSI_HANDOFF_CONN_STATSN,		/* u32: next StatSN */
	ISCSI_HANDOFF_CONN_STATS,		/* nested: enum iscsi_handoff_stats_attr */
	ISCSI_HANDOFF_CONN_PAD,

	__ISCSI_HANDOFF_CONN_MAX,
};
#define ISCSI_HANDOFF_CONN_MAX (__ISCSI_HANDOFF_CONN_MAX - 1)

enum iscsi_handoff_digest {
	ISCSI_HANDOFF_DIGEST_NONE = 0,
	ISCSI_HANDOFF_DIGEST_CRC32C = 1,
};

enum iscsi_handoff_session_type {
	ISCSI_HANDOFF_SESSION_NORMAL = 1,	/* Discovery sessions never reach the kernel */
};

enum iscsi_handoff_session_state {
	ISCSI_HANDOFF_SESSION_STATE_ACTIVE = 1,
	ISCSI_HANDOFF_SESSION_STATE_LOGOUT_REQUESTED = 2,
	ISCSI_HANDOFF_SESSION_STATE_CLOSING = 3,
};

enum iscsi_handoff_conn_state {
	ISCSI_HANDOFF_CONN_STATE_FULL_FEATURE = 1,
	ISCSI_HANDOFF_CONN_STATE_LOGGED_OUT = 2,
	ISCSI_HANDOFF_CONN_STATE_CLOSING = 3,
};

enum iscsi_handoff_down_reason {
	ISCSI_HANDOFF_REASON_UNSPEC = 0,
	ISCSI_HANDOFF_REASON_LOGOUT = 1,		/* the initiator logged out */
	ISCSI_HANDOFF_REASON_PEER_CLOSED = 2,		/* TCP closed or reset by the peer */
	ISCSI_HANDOFF_REASON_ADMIN = 3,			/* CONN/SESSION_TERMINATE */
	ISCSI_HANDOFF_REASON_PROTOCOL_ERROR = 4,	/* a PDU the RFC says ends the connection */
	ISCSI_HANDOFF_REASON_DIGEST_ERROR = 5,
	ISCSI_HANDOFF_REASON_NOP_TIMEOUT = 6,		/* NOP-In ping unanswered */
	ISCSI_HANDOFF_REASON_LOGOUT_TIMEOUT = 7,	/* SESSION_LOGOUT deadline passed */
	ISCSI_HANDOFF_REASON_REINSTATED = 8,		/* replaced by a new login with the same ISID/CID */
	ISCSI_HANDOFF_REASON_MODULE_UNLOAD = 9,
	ISCSI_HANDOFF_REASON_CONFIG_REMOVED = 10,	/* its target or TPG left configfs */
	ISCSI_HANDOFF_REASON_TARGET_COLD_RESET = 11,	/* a TARGET COLD RESET TMF (RFC 7143 s.11.5.1) */
};

#endif /* _UAPI_ISCSI_HANDOFF_H */
