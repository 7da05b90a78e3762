/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ih.h - internal types of iscsi_handoff.ko, a LIO fabric that runs the iSCSI
 * Full Feature Phase (RFC 7143) on TCP sockets whose login was done by
 * iscsi-targetd in userspace.
 *
 * Object model and lifetimes:
 *   ih_tiqn (configfs wwn) -> ih_tpg (configfs tpgt_N)
 *   ih_sess (kref): one se_session, 1..MaxConnections ih_conn
 *   ih_conn (kref): one socket, an rx kthread and a tx kthread
 *   ih_cmd: embeds the se_cmd; holds a conn reference until target core
 *           calls release_cmd.
 */
#ifndef IH_H
#define IH_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/kref.h>
#include <linux/refcount.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/bvec.h>
#include <scsi/iscsi_proto.h>
#include <target/target_core_base.h>

#include "uapi/iscsi_handoff.h"

#define IH_FABRIC_NAME		"iscsi_handoff"
#define IH_VERSION_MAJOR	1
#define IH_VERSION_MINOR	0
#define IH_VERSION_STRING	"iscsi_handoff 1.0"

/* Limits reported by GET_LIMITS and enforced at HANDOFF. */
#define IH_MAX_SESSIONS		1024
#define IH_MAX_CONNS_PER_SESS	8
#define IH_MAX_DSL		(256 * 1024)	/* largest MaxRecvDataSegmentLength we accept */
#define IH_MAX_BURST		(16 * 1024 * 1024 - 1)
#define IH_MAX_QUEUE_DEPTH	512
#define IH_DEFAULT_DEPTH	64
#define IH_MAX_R2T_PER_CMD	4		/* we never issue more R2Ts at once, whatever MaxOutstandingR2T */
#define IH_DISCOVERY_TEXT_MAX	65536

#define IH_BHS_LEN		48
#define IH_MAX_AHS_LEN		(255 * 4)
/*
 * Pages of a write's data segment handed to one socket receive: 256 KiB of
 * 4 KiB pages; a longer segment is received in several calls.
 */
#define IH_RX_BVECS		64

/* ---------------------------------------------------------------- configfs */

struct ih_tiqn {
	struct se_wwn		wwn;
	char			name[ISCSI_HANDOFF_NAME_MAX + 1];
};

struct ih_tpg {
	struct se_portal_group	se_tpg;
	struct ih_tiqn		*tiqn;
	u16			tpgt;
	struct list_head	node;		/* ih_tpg_list, under ih_lock */
	bool			dying;
	/* TPG attributes (attrib/) */
	u32			generate_node_acls;
	u32			demo_mode_write_protect;
	u32			prod_mode_write_protect;
	u32			cache_dynamic_acls;
	u32			default_cmdsn_depth;
	u32			demo_mode_discovery;
	u32			nopin_interval;	/* s; 0: no NOP-In pings (RFC 7143 s.11.19) */
	u32			nopin_timeout;	/* s; 0: an unanswered ping never drops */
	/* SendTargets answer stored by SET_DISCOVERY_TEXT, under ih_lock */
	u8			*discovery_text;
	u32			discovery_len;
};

struct ih_nacl {
	struct se_node_acl	se_nacl;
};

/* ------------------------------------------------------------ negotiation */

struct ih_params {
	u8	header_digest;
	u8	data_digest;
	u32	max_recv_dsl;		/* ours: what the initiator may send us */
	u32	max_xmit_dsl;		/* the initiator's MaxRecvDataSegmentLength */
	u32	max_burst;
	u32	first_burst;
	u8	initial_r2t;
	u8	immediate_data;
	u32	max_outstanding_r2t;
	u8	data_pdu_in_order;
	u8	data_seq_in_order;
	u8	erl;
	u32	time2wait;
	u32	time2retain;
	u32	max_connections;
};

struct ih_stats {
	atomic64_t	commands;
	atomic64_t	read_bytes;
	atomic64_t	write_bytes;
	atomic64_t	errors;
	atomic64_t	digest_errors;
	atomic64_t	rejects;
	atomic_t	in_flight;
};

/* ---------------------------------------------------------------- session */

struct ih_sess {
	struct list_head	node;		/* ih_sess_list, under ih_lock */
	struct kref		ref;
	u64			handle;
	struct ih_tpg		*tpg;
	struct se_session	*se_sess;
	char			initiator[ISCSI_HANDOFF_NAME_MAX + 1];
	char			alias[ISCSI_HANDOFF_ALIAS_MAX + 1];
	char			target[ISCSI_HANDOFF_NAME_MAX + 1];
	char			chap_user[ISCSI_HANDOFF_CHAP_USER_MAX + 1];
	u16			tpgt;
	u8			isid[ISCSI_HANDOFF_ISID_LEN];
	u16			tsih;
	struct ih_params	params;
	u64			start_time;
	u8			state;		/* enum iscsi_handoff_session_state */

	/* CmdSN window (RFC 7143 s.4.2.2.1), under sn_lock */
	spinlock_t		sn_lock;
	u32			exp_cmdsn;
	u32			max_cmdsn;
	u32			queue_depth;
	/* commands received ahead of ExpCmdSN, sorted; under cmdsn_mutex */
	struct mutex		cmdsn_mutex;
	struct list_head	ooo_list;

	/* connections, under ih_lock */
	struct list_head	conns;
	unsigned int		nconns;
	u32			down_reason;
	bool			down_sent;

	struct delayed_work	logout_work;
	struct work_struct	free_work;
	struct ih_stats		stats;
};

/* --------------------------------------------------------------- connection */

enum ih_conn_state {
	IH_CONN_RUNNING = 1,
	IH_CONN_LOGGED_OUT,
	IH_CONN_CLOSING,
};

struct ih_conn {
	struct list_head	sess_node;	/* sess->conns, under ih_lock */
	struct kref		ref;
	struct ih_sess		*sess;
	u64			handle;
	u16			cid;
	struct socket		*sock;
	struct file		*file;		/* holds the socket */
	struct sockaddr_storage	peer;
	struct sockaddr_storage	local;
	int			peer_len;
	int			local_len;

	struct task_struct	*rx_thread;
	struct task_struct	*tx_thread;

	/* tx queue: every PDU the target sends goes through here, in order */
	spinlock_t		tx_lock;
	struct list_head	tx_queue;
	wait_queue_head_t	tx_wait;
	bool			tx_stop;	/* under tx_lock: discard instead of send */

	u32			stat_sn;	/* next StatSN; tx thread only */
	u32			exp_statsn;	/* last ExpStatSN seen; rx */
	atomic_t		next_ttt;

	/* commands of this connection by ITT (connection allegiance, ERL 0) */
	struct xarray		cmds;
	atomic_t		ncmds;		/* ih_cmd structures alive */
	wait_queue_head_t	cmds_wq;

	atomic_t		state;		/* enum ih_conn_state */
	atomic_t		closing;	/* set once by ih_conn_close() */
	u32			down_reason;
	bool			first_pdu_seen;	/* tx sends nothing before (login response sequencing) */
	bool			close_after_tx;	/* logout: close once the response left */

	struct work_struct	close_work;
	struct ih_stats		stats;

	/* Text Response pieces still to send (text.c); rx thread only */
	u8			*text_rsp;
	u32			text_len;
	u32			text_off;
	u32			text_itt;
	u32			text_ttt;

	/* NOP-In pings (nop.c) */
	struct delayed_work	nop_work;
	unsigned long		last_rx;	/* jiffies of the last BHS received */
	spinlock_t		nop_lock;
	bool			nop_outstanding;
	u32			nop_ttt;	/* TTT of the outstanding ping */
	unsigned long		nop_sent;	/* jiffies it was queued */

	/* rx scratch: one PDU at a time */
	u8			bhs[IH_BHS_LEN];
	u8			ahs[IH_MAX_AHS_LEN];
	u8			*rx_buf;	/* max_recv_dsl + pad bytes, for non-SCSI data */
	/* the pages of one SCSI data segment, received in one call (rx.c) */
	struct bio_vec		rx_bvec[IH_RX_BVECS];
};

/* ------------------------------------------------------------------ command */

enum ih_tx_kind {
	IH_TX_RAW = 1,		/* a prebuilt PDU (struct ih_raw) */
	IH_TX_DATA_IN,		/* se_cmd read data, then status */
	IH_TX_STATUS,		/* SCSI Response */
	IH_TX_TMR_RSP,		/* Task Management Function Response */
};

/* One entry of a connection's transmit queue. */
struct ih_tx_item {
	struct list_head	node;
	enum ih_tx_kind		kind;
};

struct ih_r2t {
	bool	active;
	u32	ttt;
	u32	offset;
	u32	length;
	u32	received;
	u32	next_datasn;
	u32	next_offset;
};

struct ih_cmd {
	struct se_cmd		se_cmd;
	struct ih_conn		*conn;
	struct list_head	ooo_node;	/* sess->ooo_list */
	u32			itt;
	u32			cmdsn;
	bool			immediate;
	bool			is_tmr;
	bool			in_xa;
	bool			submitted;
	u8			iscsi_task_attr;
	u8			tmr_func;
	u32			ref_itt;
	u64			unpacked_lun;
	struct scsi_lun		lun_raw;
	int			dir;		/* DMA_TO_DEVICE / DMA_FROM_DEVICE / DMA_NONE */
	u32			edtl;		/* Expected Data Transfer Length */
	u32			core_len;	/* data length target core works on (see ih_write_residuals) */
	u32			residual;	/* write residual computed by the fabric */
	u8			residual_flag;	/* ISCSI_FLAG_CMD_OVERFLOW / _UNDERFLOW or 0 */
	u8			*cdb;
	u8			cdb_buf[16];
	u8			sense[TRANSPORT_SENSE_BUFFER];

	/* write data (our own buffer, passed to target core) */
	struct scatterlist	*wsgl;
	unsigned int		wnents;

	spinlock_t		lock;		/* everything below */
	u32			write_received;
	u32			unsol_received;
	u32			unsol_limit;	/* unsolicited bytes allowed (FirstBurstLength rules) */
	u32			unsol_next_datasn;
	u32			unsol_next_offset;
	bool			unsol_done;
	bool			wp_called;	/* target core called write_pending */
	bool			executed;
	bool			released;	/* target core called release_cmd */
	bool			r2t_queued;
	u32			r2t_next_offset;	/* first byte not yet asked for */
	u32			r2tsn;
	struct ih_r2t		r2t[IH_MAX_R2T_PER_CMD];
	u32			datain_sn;	/* DataSN of Data-In and R2T share one space (s.11.7.5) */

	refcount_t		ref;		/* target core's (dropped at release_cmd) + rx lookups */

	/* tx: a command is queued once, for its final response */
	struct ih_tx_item	tx;
	bool			window_released;	/* MaxCmdSN advanced for it */

	/* task management */
	bool			abort_unsubmitted;	/* ABORT TASK while waiting for CmdSN order */
	/*
	 * A Data-Out arrived out of DataSN order: the task ends in CHECK
	 * CONDITION ("protocol service CRC error") once its data has all come.
	 */
	bool			data_failed;
	struct list_head	abort_node;		/* ih_abort_scan's private list */
};

/* A prebuilt PDU queued for transmission (NOP-In, Reject, Logout Response, ...). */
struct ih_raw {
	struct ih_tx_item	tx;		/* kind IH_TX_RAW */
	bool			advance_statsn;	/* StatSN/ExpCmdSN/MaxCmdSN are filled at send time */
	u32			close_reason;	/* non-zero: close the connection once sent */
	bool			close_session;	/* ... and every other connection of the session */
	bool			close_target;	/* ... and every session of the same target (cold reset) */
	u8			bhs[IH_BHS_LEN];
	u32			data_len;
	u8			data[];
};

/* ------------------------------------------------------------------ globals */

extern const struct target_core_fabric_ops ih_fabric_ops;
extern struct mutex ih_lock;		/* tpg list, session list, conn lists */
extern struct list_head ih_tpg_list;
extern struct list_head ih_sess_list;
extern struct workqueue_struct *ih_wq;
extern struct kmem_cache *ih_cmd_cache;
extern bool ih_unloading;

/* configfs.c */
struct ih_tpg *ih_tpg_lookup(const char *target, u16 tpgt);	/* under ih_lock */
bool ih_valid_iscsi_name(const char *name);

/* netlink.c */
int ih_genl_init(void);
void ih_genl_exit(void);
void ih_event_conn_down(struct ih_conn *conn);
void ih_event_session_down(struct ih_sess *sess);

/* session.c */
struct netlink_ext_ack;

struct ih_handoff_req {
	int			fd;
	const char		*target;
	u16			tpgt;
	const char		*initiator;
	const char		*alias;
	const char		*chap_user;
	u8			isid[ISCSI_HANDOFF_ISID_LEN];
	u16			tsih;
	u16			cid;
	u32			cmdsn;
	u32			statsn;
	u32			exp_statsn;
	struct ih_params	params;
	struct sockaddr_storage	peer;
	int			peer_len;
	struct sockaddr_storage	local;
	int			local_len;
};
int ih_handoff(const struct ih_handoff_req *req, struct netlink_ext_ack *extack,
	       u64 *sess_handle, u64 *conn_handle);
struct ih_sess *ih_sess_find(u64 handle);	/* under ih_lock */
void ih_sess_get(struct ih_sess *sess);
void ih_sess_put(struct ih_sess *sess);
void ih_conn_get(struct ih_conn *conn);
void ih_conn_put(struct ih_conn *conn);
void ih_conn_close(struct ih_conn *conn, u32 reason);
void ih_sess_close(struct ih_sess *sess, u32 reason);
void ih_sess_request_logout(struct ih_sess *sess, u32 deadline_s);
void ih_close_tpg_sessions(struct ih_tpg *tpg, u32 reason);
void ih_close_all_sessions(u32 reason);
void ih_close_target_sessions(struct ih_tiqn *tiqn, u32 reason);
u32 ih_sess_max_cmdsn(struct ih_sess *sess);
u32 ih_sess_exp_cmdsn(struct ih_sess *sess);
void ih_sess_cmd_done(struct ih_sess *sess);
void ih_cmd_release_window(struct ih_cmd *cmd);

/* nop.c */
#define IH_NOPIN_DEFAULT_INTERVAL	15
#define IH_NOPIN_DEFAULT_TIMEOUT	30
#define IH_NOPIN_MAX			3600
void ih_nop_init(struct ih_conn *conn);
void ih_nop_start(struct ih_conn *conn);
void ih_nop_stop(struct ih_conn *conn);
void ih_nop_rx(struct ih_conn *conn);
bool ih_nop_answered(struct ih_conn *conn, u32 ttt);

/* text.c */
int ih_text_request(struct ih_conn *conn, const u8 *bhs, const u8 *data, u32 dlen);
void ih_text_reset(struct ih_conn *conn);

/* rx.c */
int ih_rx_thread(void *arg);

/* tx.c */
int ih_tx_thread(void *arg);
void ih_tx_queue_cmd(struct ih_cmd *cmd, enum ih_tx_kind kind);
void ih_tx_queue_raw(struct ih_conn *conn, struct ih_raw *raw);
struct ih_raw *ih_raw_alloc(u32 data_len, gfp_t gfp);
void ih_send_reject(struct ih_conn *conn, u8 reason, const u8 *bhs, u32 close_reason);
void ih_send_async_logout(struct ih_conn *conn, u16 deadline_s);
void ih_queue_r2ts(struct ih_cmd *cmd);

/* scsi.c */
struct ih_cmd *ih_cmd_alloc(struct ih_conn *conn);
void ih_cmd_free_unsubmitted(struct ih_cmd *cmd);
void ih_cmd_submit(struct ih_cmd *cmd);
void ih_cmd_submit_tmr(struct ih_cmd *cmd);
void ih_write_data_progress(struct ih_cmd *cmd);
void ih_conn_release_cmds(struct ih_conn *conn);
/* target core callbacks */
int ih_check_stop_free(struct se_cmd *se_cmd);
void ih_release_cmd(struct se_cmd *se_cmd);
int ih_write_pending(struct se_cmd *se_cmd);
int ih_queue_data_in(struct se_cmd *se_cmd);
int ih_queue_status(struct se_cmd *se_cmd);
void ih_queue_tm_rsp(struct se_cmd *se_cmd);
void ih_aborted_task(struct se_cmd *se_cmd);
struct ih_cmd *ih_cmd_lookup(struct ih_conn *conn, u32 itt);
void ih_cmd_put(struct ih_cmd *cmd);
void ih_abort_scan_stop(void);

/* helpers */
static inline bool ih_sn_lt(u32 a, u32 b)
{
	return (s32)(a - b) < 0;	/* serial number arithmetic, RFC 1982 */
}

static inline bool ih_sn_gt(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

static inline u32 ih_dlength(const u8 *bhs)
{
	return ((u32)bhs[5] << 16) | ((u32)bhs[6] << 8) | bhs[7];
}

static inline void ih_set_dlength(u8 *bhs, u32 len)
{
	bhs[5] = (len >> 16) & 0xff;
	bhs[6] = (len >> 8) & 0xff;
	bhs[7] = len & 0xff;
}

static inline u32 ih_pad4(u32 len)
{
	return (4 - (len & 3)) & 3;
}

#define ih_conn_log(level, conn, fmt, ...)					\
	pr_##level("iscsi_handoff: %s tsih %u cid %u: " fmt,			\
		   (conn)->sess->initiator, (conn)->sess->tsih, (conn)->cid,	\
		   ##__VA_ARGS__)

#endif /* IH_H */
