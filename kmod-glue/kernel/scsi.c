// SPDX-License-Identifier: GPL-2.0
/*
 * scsi.c - commands and target core: submission, write data flow (R2T),
 * the fabric callbacks target core calls back into, and release.
 *
 * Reference rules for struct ih_cmd:
 *  - ih_cmd.ref starts at 1 (the "lifecycle" reference). Before target core
 *    knows the command, ih_cmd_free_unsubmitted() drops it; afterwards
 *    release_cmd does. rx takes short references through ih_cmd_lookup().
 *  - se_cmd.cmd_kref is target core's, with TARGET_SCF_ACK_KREF: core drops
 *    one reference at check_stop_free, the tx thread drops the other once the
 *    final response left (or was discarded because the connection is gone).
 *  - every ih_cmd holds a connection reference; close_work waits for ncmds to
 *    reach 0 before the connection goes away.
 */
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <asm/unaligned.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>
#include <target/target_core_backend.h>

#include "ih.h"

struct kmem_cache *ih_cmd_cache;

static inline struct ih_cmd *to_ih_cmd(struct se_cmd *se_cmd)
{
	return container_of(se_cmd, struct ih_cmd, se_cmd);
}

struct ih_cmd *ih_cmd_alloc(struct ih_conn *conn)
{
	struct ih_cmd *cmd = kmem_cache_zalloc(ih_cmd_cache, GFP_KERNEL);

	if (!cmd)
		return NULL;
	refcount_set(&cmd->ref, 1);
	spin_lock_init(&cmd->lock);
	INIT_LIST_HEAD(&cmd->ooo_node);
	INIT_LIST_HEAD(&cmd->tx.node);
	INIT_LIST_HEAD(&cmd->abort_node);
	cmd->cdb = cmd->cdb_buf;
	cmd->conn = conn;
	ih_conn_get(conn);
	atomic_inc(&conn->ncmds);
	return cmd;
}

void ih_cmd_release_window(struct ih_cmd *cmd)
{
	if (cmd->immediate || cmd->is_tmr || cmd->window_released)
		return;
	cmd->window_released = true;
	ih_sess_cmd_done(cmd->conn->sess);
}

void ih_cmd_put(struct ih_cmd *cmd)
{
	struct ih_conn *conn = cmd->conn;

	if (!refcount_dec_and_test(&cmd->ref))
		return;
	ih_cmd_release_window(cmd);
	if (cmd->cdb != cmd->cdb_buf)
		kfree(cmd->cdb);
	if (cmd->wsgl)
		target_free_sgl(cmd->wsgl, cmd->wnents);
	kmem_cache_free(ih_cmd_cache, cmd);
	if (atomic_dec_and_test(&conn->ncmds))
		wake_up(&conn->cmds_wq);
	ih_conn_put(conn);
}

static void ih_cmd_unhash(struct ih_cmd *cmd)
{
	/* Only our own entry: the ITT may already name a newer task. */
	xa_lock_bh(&cmd->conn->cmds);
	if (cmd->in_xa) {
		__xa_cmpxchg(&cmd->conn->cmds, cmd->itt, cmd, NULL, GFP_ATOMIC);
		cmd->in_xa = false;
	}
	xa_unlock_bh(&cmd->conn->cmds);
}

struct ih_cmd *ih_cmd_lookup(struct ih_conn *conn, u32 itt)
{
	struct ih_cmd *cmd;

	xa_lock_bh(&conn->cmds);
	cmd = xa_load(&conn->cmds, itt);
	if (cmd && !refcount_inc_not_zero(&cmd->ref))
		cmd = NULL;
	xa_unlock_bh(&conn->cmds);
	return cmd;
}

void ih_cmd_free_unsubmitted(struct ih_cmd *cmd)
{
	ih_cmd_unhash(cmd);
	ih_cmd_put(cmd);
}

/* --------------------------------------------------------- write residuals */

/* Exported by target_core_mod but only declared in its internal header. */
struct se_dev_entry *target_nacl_find_deve(struct se_node_acl *nacl, u64 mapped_lun);

static u32 ih_lun_block_size(struct ih_cmd *cmd)
{
	struct se_session *se_sess = cmd->conn->sess->se_sess;
	struct se_dev_entry *deve;
	struct se_device *dev;
	struct se_lun *lun;
	u32 bs = 0;

	rcu_read_lock();
	deve = target_nacl_find_deve(se_sess->se_node_acl, cmd->unpacked_lun);
	if (deve) {
		lun = READ_ONCE(deve->se_lun);
		dev = lun ? rcu_dereference(lun->lun_se_dev) : NULL;
		if (dev)
			bs = dev->dev_attrib.block_size;
	}
	rcu_read_unlock();
	return bs;
}

/*
 * RFC 7143 s.11.4.5: when the Expected Data Transfer Length and the CDB's
 * transfer length differ, the target moves min(EDTL, CDB length) and reports
 * the difference as overflow or underflow with GOOD status. Target core
 * refuses such WRITEs outright, so for the WRITE family the fabric does it:
 * the whole EDTL is received from the initiator, target core is given the
 * smaller length (the CDB is shortened to whole blocks on overflow) and the
 * residual is reported by the fabric. Anything else is left to target core.
 */
static void ih_write_residuals(struct ih_cmd *cmd)
{
	u8 *cdb = cmd->cdb;
	u32 blocks, bs, size, keep;
	int field;

	cmd->core_len = cmd->edtl;
	if (cmd->dir != DMA_TO_DEVICE && !(cmd->dir == DMA_NONE && cmd->edtl == 0))
		return;
	switch (cdb[0]) {
	case WRITE_10:
	case WRITE_VERIFY:
		blocks = get_unaligned_be16(cdb + 7);
		field = 10;
		break;
	case WRITE_12:
	case WRITE_VERIFY_12:
		blocks = get_unaligned_be32(cdb + 6);
		field = 12;
		break;
	case WRITE_16:
	case WRITE_VERIFY_16:
		blocks = get_unaligned_be32(cdb + 10);
		field = 16;
		break;
	default:
		return;
	}
	bs = ih_lun_block_size(cmd);
	if (!bs || (u64)blocks * bs > U32_MAX)
		return;
	size = blocks * bs;
	if (size == cmd->edtl)
		return;
	if (size > cmd->edtl) {
		keep = cmd->edtl / bs;
		cmd->residual = size - cmd->edtl;
		cmd->residual_flag = ISCSI_FLAG_CMD_OVERFLOW;
		if (field == 10)
			put_unaligned_be16(keep, cdb + 7);
		else if (field == 12)
			put_unaligned_be32(keep, cdb + 6);
		else
			put_unaligned_be32(keep, cdb + 10);
		cmd->core_len = keep * bs;
	} else {
		cmd->residual = cmd->edtl - size;
		cmd->residual_flag = ISCSI_FLAG_CMD_UNDERFLOW;
		cmd->core_len = size;
	}
	/* A WRITE without iSCSI data still is a write for target core. */
	cmd->dir = DMA_TO_DEVICE;
}

/*
 * All EDTL bytes are in; target core must only see core_len of them: shorten
 * the scatterlist it walks (by count, never by end mark, so that
 * target_free_sgl still frees every page).
 */
static void ih_trim_write_sgl(struct ih_cmd *cmd)
{
	struct se_cmd *se_cmd = &cmd->se_cmd;
	struct scatterlist *sg;
	u32 left = cmd->core_len;
	unsigned int i;

	if (!cmd->wsgl || cmd->core_len == cmd->edtl)
		return;
	if (!left) {
		se_cmd->t_data_nents = 0;
		return;
	}
	for_each_sg(cmd->wsgl, sg, cmd->wnents, i) {
		if (left <= sg->length) {
			sg->length = left;
			se_cmd->t_data_nents = i + 1;
			return;
		}
		left -= sg->length;
	}
}

/* ------------------------------------------------------------ submission */

void ih_cmd_submit(struct ih_cmd *cmd)
{
	struct ih_conn *conn = cmd->conn;
	struct se_cmd *se_cmd = &cmd->se_cmd;
	int ret;

	if (atomic_read(&conn->closing)) {
		ih_cmd_free_unsubmitted(cmd);
		return;
	}
	ih_write_residuals(cmd);
	ret = target_init_cmd(se_cmd, conn->sess->se_sess, cmd->sense,
			      cmd->unpacked_lun, cmd->core_len, cmd->iscsi_task_attr,
			      cmd->dir, TARGET_SCF_ACK_KREF);
	if (ret) {
		/* The session is stopping; the command was never in target core. */
		ih_cmd_free_unsubmitted(cmd);
		return;
	}
	se_cmd->tag = cmd->itt;
	cmd->submitted = true;
	atomic_inc(&conn->stats.in_flight);
	atomic_inc(&conn->sess->stats.in_flight);
	/* On failure target core has already queued CHECK CONDITION through queue_status. */
	/* A write shortened to nothing (overflow below one block) moves no data. */
	if (target_submit_prep(se_cmd, cmd->cdb, cmd->core_len ? cmd->wsgl : NULL,
			       cmd->core_len ? cmd->wnents : 0, NULL, 0, NULL, 0, GFP_KERNEL))
		return;
	target_submit(se_cmd);
}

/* ------------------------------------------- aborts of writes waiting for data */

/*
 * Target core aborts a task (ABORT TASK, LUN RESET, ...) by marking it
 * CMD_T_ABORTED and then waiting until the fabric hands it back. A WRITE
 * waiting for Data-Out is with the fabric: nothing would hand it back if the
 * initiator, as RFC 7143 s.11.5.1 allows for ABORT TASK (and open-iscsi does),
 * sends no more data for it, and the TMF would never be answered. So while a
 * task management function from this fabric is in target core, every write
 * waiting for data is checked for CMD_T_ABORTED and, once marked, passed to
 * target_execute_cmd(), which sees the mark and finishes the task as aborted
 * (no status for the issuing session; TASK ABORTED for others when TAS is
 * set). Data-Out still arriving for it is received and dropped; its R2Ts stay
 * valid until the task is gone, so an initiator that completes them is not
 * treated as a protocol error.
 */
static atomic_t ih_tmr_inflight = ATOMIC_INIT(0);
static void ih_abort_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(ih_abort_scan_work, ih_abort_scan);

static bool ih_cmd_waits_for_data(struct ih_cmd *cmd)
{
	return !cmd->is_tmr && cmd->dir == DMA_TO_DEVICE && cmd->submitted &&
	       READ_ONCE(cmd->wp_called) && !READ_ONCE(cmd->executed) &&
	       !READ_ONCE(cmd->released);
}

static void ih_finish_aborted_write(struct ih_cmd *cmd)
{
	bool claim;

	spin_lock_bh(&cmd->lock);
	claim = cmd->wp_called && !cmd->executed && !cmd->released;
	if (claim)
		cmd->executed = true;
	spin_unlock_bh(&cmd->lock);
	if (claim)
		target_execute_cmd(&cmd->se_cmd);	/* CMD_T_ABORTED: not executed */
}

static void ih_abort_scan(struct work_struct *work)
{
	struct ih_cmd *cmd, *tmp;
	struct ih_sess *sess;
	struct ih_conn *conn;
	unsigned long index;
	LIST_HEAD(found);

	mutex_lock(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node) {
		list_for_each_entry(conn, &sess->conns, sess_node) {
			xa_lock_bh(&conn->cmds);
			xa_for_each(&conn->cmds, index, cmd) {
				if (ih_cmd_waits_for_data(cmd) &&
				    (READ_ONCE(cmd->se_cmd.transport_state) & CMD_T_ABORTED) &&
				    list_empty(&cmd->abort_node) &&
				    refcount_inc_not_zero(&cmd->ref))
					list_add_tail(&cmd->abort_node, &found);
			}
			xa_unlock_bh(&conn->cmds);
		}
	}
	mutex_unlock(&ih_lock);
	list_for_each_entry_safe(cmd, tmp, &found, abort_node) {
		list_del_init(&cmd->abort_node);
		ih_finish_aborted_write(cmd);
		ih_cmd_put(cmd);
	}
	if (atomic_read(&ih_tmr_inflight))
		schedule_delayed_work(&ih_abort_scan_work, msecs_to_jiffies(10));
}

/* Module exit: every session is gone, so no TMF is in flight any more. */
void ih_abort_scan_stop(void)
{
	cancel_delayed_work_sync(&ih_abort_scan_work);
}

void ih_cmd_submit_tmr(struct ih_cmd *cmd)
{
	struct ih_conn *conn = cmd->conn;
	struct ih_raw *raw;
	int ret;

	atomic_inc(&ih_tmr_inflight);
	cmd->submitted = true;
	ret = target_submit_tmr(&cmd->se_cmd, conn->sess->se_sess, cmd->sense,
				cmd->unpacked_lun, cmd, cmd->tmr_func, GFP_KERNEL,
				cmd->ref_itt, TARGET_SCF_ACK_KREF);
	if (!ret) {
		schedule_delayed_work(&ih_abort_scan_work, 1);
		return;
	}
	cmd->submitted = false;
	atomic_dec(&ih_tmr_inflight);
	/* Not accepted by target core: answer "function rejected" ourselves. */
	raw = ih_raw_alloc(0, GFP_KERNEL);
	if (raw) {
		struct iscsi_tm_rsp *rsp = (struct iscsi_tm_rsp *)raw->bhs;

		rsp->opcode = ISCSI_OP_SCSI_TMFUNC_RSP;
		rsp->flags = ISCSI_FLAG_CMD_FINAL;
		rsp->response = ISCSI_TMF_RSP_REJECTED;
		rsp->itt = cpu_to_be32(cmd->itt);
		raw->advance_statsn = true;
		ih_tx_queue_raw(conn, raw);
	}
	ih_cmd_free_unsubmitted(cmd);
}

/* -------------------------------------------------------------- write data */

struct ih_r2t_pdu {
	u32 ttt, r2tsn, offset, length;
};

/*
 * Called whenever write data arrived or target core is ready for it: execute
 * the command once all Expected Data Transfer Length bytes are in, otherwise
 * solicit the rest with R2Ts (s.11.8), each at most MaxBurstLength, at most
 * MaxOutstandingR2T at a time, only after the unsolicited burst ended.
 */
void ih_write_data_progress(struct ih_cmd *cmd)
{
	struct ih_conn *conn = cmd->conn;
	struct ih_params *p = &conn->sess->params;
	struct ih_r2t_pdu pdus[IH_MAX_R2T_PER_CMD];
	u32 limit = min_t(u32, p->max_outstanding_r2t, IH_MAX_R2T_PER_CMD);
	int n = 0, i, active = 0;
	bool execute = false, abort = false, fail = false;

	spin_lock_bh(&cmd->lock);
	if (!cmd->wp_called || cmd->executed || cmd->released) {
		spin_unlock_bh(&cmd->lock);
		return;
	}
	if (cmd->write_received >= cmd->edtl) {
		cmd->executed = execute = true;
	} else if (atomic_read(&conn->closing)) {
		cmd->executed = abort = true;
	} else if (cmd->data_failed) {
		/* No new R2T; fail the task once every outstanding burst has ended. */
		for (i = 0; i < IH_MAX_R2T_PER_CMD; i++)
			if (cmd->r2t[i].active)
				active++;
		if (cmd->unsol_done && !active)
			cmd->executed = fail = true;
	} else if (cmd->unsol_done) {
		if (!cmd->r2t_queued) {
			cmd->r2t_queued = true;
			cmd->r2t_next_offset = cmd->unsol_received;
		}
		for (i = 0; i < IH_MAX_R2T_PER_CMD; i++)
			if (cmd->r2t[i].active)
				active++;
		for (i = 0; i < IH_MAX_R2T_PER_CMD && active < limit &&
			    cmd->r2t_next_offset < cmd->edtl; i++) {
			struct ih_r2t *r = &cmd->r2t[i];
			u32 ttt;

			if (r->active)
				continue;
			do {
				ttt = atomic_inc_return(&conn->next_ttt);
			} while (ttt == ISCSI_RESERVED_TAG);
			r->active = true;
			r->ttt = ttt;
			r->offset = cmd->r2t_next_offset;
			r->length = min(p->max_burst, cmd->edtl - r->offset);
			r->received = 0;
			r->next_datasn = 0;
			r->next_offset = r->offset;
			cmd->r2t_next_offset += r->length;
			pdus[n].ttt = ttt;
			pdus[n].r2tsn = cmd->r2tsn++;
			pdus[n].offset = r->offset;
			pdus[n].length = r->length;
			n++;
			active++;
		}
	}
	spin_unlock_bh(&cmd->lock);

	if (execute) {
		ih_trim_write_sgl(cmd);
		target_execute_cmd(&cmd->se_cmd);
		return;
	}
	if (abort) {
		/* Data will never come: let target core finish the task (as iscsit does). */
		target_complete_cmd(&cmd->se_cmd, SAM_STAT_TASK_ABORTED);
		return;
	}
	if (fail) {
		/*
		 * Target core builds a CHECK CONDITION and calls
		 * ih_queue_status(), which puts the iSCSI sense in its place.
		 */
		transport_generic_request_failure(&cmd->se_cmd,
						  TCM_CHECK_CONDITION_ABORT_CMD);
		return;
	}
	for (i = 0; i < n; i++) {
		struct ih_raw *raw = ih_raw_alloc(0, GFP_KERNEL);
		struct iscsi_r2t_rsp *h;

		if (!raw) {
			ih_conn_close(conn, ISCSI_HANDOFF_REASON_PROTOCOL_ERROR);
			return;
		}
		h = (struct iscsi_r2t_rsp *)raw->bhs;
		h->opcode = ISCSI_OP_R2T;
		h->flags = ISCSI_FLAG_CMD_FINAL;
		h->lun = cmd->lun_raw;
		h->itt = cpu_to_be32(cmd->itt);
		h->ttt = cpu_to_be32(pdus[i].ttt);
		h->r2tsn = cpu_to_be32(pdus[i].r2tsn);
		h->data_offset = cpu_to_be32(pdus[i].offset);
		h->data_length = cpu_to_be32(pdus[i].length);
		raw->advance_statsn = false;
		ih_tx_queue_raw(conn, raw);
	}
}

/* ------------------------------------------------------ fabric callbacks */

int ih_write_pending(struct se_cmd *se_cmd)
{
	struct ih_cmd *cmd = to_ih_cmd(se_cmd);

	spin_lock_bh(&cmd->lock);
	cmd->wp_called = true;
	spin_unlock_bh(&cmd->lock);
	ih_write_data_progress(cmd);
	return 0;
}

static void ih_unhash_before_response(struct ih_cmd *cmd)
{
	/*
	 * Once the initiator sees the response it may reuse the ITT; take the
	 * task out of the table first so that the next command is not refused.
	 */
	xa_lock_bh(&cmd->conn->cmds);
	if (cmd->in_xa) {
		__xa_cmpxchg(&cmd->conn->cmds, cmd->itt, cmd, NULL, GFP_ATOMIC);
		cmd->in_xa = false;
	}
	xa_unlock_bh(&cmd->conn->cmds);
}

int ih_queue_data_in(struct se_cmd *se_cmd)
{
	struct ih_cmd *cmd = to_ih_cmd(se_cmd);

	ih_unhash_before_response(cmd);
	ih_tx_queue_cmd(cmd, IH_TX_DATA_IN);
	return 0;
}

int ih_queue_status(struct se_cmd *se_cmd)
{
	struct ih_cmd *cmd = to_ih_cmd(se_cmd);

	if (cmd->data_failed && se_cmd->scsi_status == SAM_STAT_CHECK_CONDITION) {
		/* RFC 7143 s.11.4.7.2: ABORTED COMMAND, protocol service CRC error. */
		scsi_build_sense_buffer(0, se_cmd->sense_buffer, ABORTED_COMMAND,
					0x47, 0x05);
		se_cmd->scsi_sense_length = 18;	/* fixed format */
	}
	ih_unhash_before_response(cmd);
	ih_tx_queue_cmd(cmd, IH_TX_STATUS);
	return 0;
}

void ih_queue_tm_rsp(struct se_cmd *se_cmd)
{
	struct ih_cmd *cmd = to_ih_cmd(se_cmd);

	ih_unhash_before_response(cmd);
	ih_tx_queue_cmd(cmd, IH_TX_TMR_RSP);
}

void ih_aborted_task(struct se_cmd *se_cmd)
{
	/* Nothing of ours is mapped; target core drops the ack reference itself. */
}

int ih_check_stop_free(struct se_cmd *se_cmd)
{
	return transport_generic_free_cmd(se_cmd, 0);
}

void ih_release_cmd(struct se_cmd *se_cmd)
{
	struct ih_cmd *cmd = to_ih_cmd(se_cmd);
	struct ih_conn *conn = cmd->conn;

	spin_lock_bh(&cmd->lock);
	cmd->released = true;
	spin_unlock_bh(&cmd->lock);
	xa_lock_bh(&conn->cmds);
	if (cmd->in_xa) {
		__xa_cmpxchg(&conn->cmds, cmd->itt, cmd, NULL, GFP_ATOMIC);
		cmd->in_xa = false;
	}
	xa_unlock_bh(&conn->cmds);
	if (cmd->submitted && !cmd->is_tmr) {
		atomic_dec(&conn->stats.in_flight);
		atomic_dec(&conn->sess->stats.in_flight);
	}
	if (cmd->submitted && cmd->is_tmr)
		atomic_dec(&ih_tmr_inflight);
	ih_cmd_put(cmd);
}

/* --------------------------------------------------------------- teardown */

/*
 * The connection's threads are stopped. Commands still waiting for CmdSN
 * order are freed; writes waiting for data that will never come are finished
 * as TASK ABORTED through target core; then wait until target core released
 * every command of this connection.
 */
void ih_conn_release_cmds(struct ih_conn *conn)
{
	struct ih_sess *sess = conn->sess;
	struct ih_cmd *cmd, *tmp;
	unsigned long index;
	LIST_HEAD(unsubmitted);

	mutex_lock(&sess->cmdsn_mutex);
	list_for_each_entry_safe(cmd, tmp, &sess->ooo_list, ooo_node)
		if (cmd->conn == conn)
			list_move_tail(&cmd->ooo_node, &unsubmitted);
	mutex_unlock(&sess->cmdsn_mutex);
	list_for_each_entry_safe(cmd, tmp, &unsubmitted, ooo_node) {
		list_del_init(&cmd->ooo_node);
		ih_cmd_free_unsubmitted(cmd);
	}

	/* Kick every write waiting for data; ih_write_data_progress sees closing. */
	for (;;) {
		bool found = false;

		xa_lock_bh(&conn->cmds);
		xa_for_each(&conn->cmds, index, cmd) {
			if (!cmd->is_tmr && cmd->dir == DMA_TO_DEVICE && cmd->submitted &&
			    !cmd->executed && cmd->wp_called && !cmd->released &&
			    refcount_inc_not_zero(&cmd->ref)) {
				found = true;
				break;
			}
		}
		xa_unlock_bh(&conn->cmds);
		if (!found)
			break;
		ih_write_data_progress(cmd);	/* sets executed, so the loop ends */
		ih_cmd_put(cmd);
	}

	while (!wait_event_timeout(conn->cmds_wq, atomic_read(&conn->ncmds) == 0, 10 * HZ))
		ih_conn_log(warn, conn, "still waiting for %d commands in target core\n",
			    atomic_read(&conn->ncmds));
}
