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
	ret = target_init_cmd(se_cmd, conn->sess->se_sess, cmd->sense,
			      cmd->unpacked_lun, cmd->edtl, cmd->iscsi_task_attr,
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
	if (target_submit_prep(se_cmd, cmd->cdb, cmd->wsgl, cmd->wnents,
			       NULL, 0, NULL, 0, GFP_KERNEL))
		return;
	target_submit(se_cmd);
}

void ih_cmd_submit_tmr(struct ih_cmd *cmd)
{
	struct ih_conn *conn = cmd->conn;
	struct ih_raw *raw;
	int ret;

	ret = target_submit_tmr(&cmd->se_cmd, conn->sess->se_sess, cmd->sense,
				cmd->unpacked_lun, cmd, cmd->tmr_func, GFP_KERNEL,
				cmd->ref_itt, TARGET_SCF_ACK_KREF);
	if (!ret) {
		cmd->submitted = true;
		return;
	}
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
	bool execute = false, abort = false;

	spin_lock_bh(&cmd->lock);
	if (!cmd->wp_called || cmd->executed || cmd->released) {
		spin_unlock_bh(&cmd->lock);
		return;
	}
	if (cmd->write_received >= cmd->edtl) {
		cmd->executed = execute = true;
	} else if (atomic_read(&conn->closing)) {
		cmd->executed = abort = true;
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
		target_execute_cmd(&cmd->se_cmd);
		return;
	}
	if (abort) {
		/* Data will never come: let target core finish the task (as iscsit does). */
		target_complete_cmd(&cmd->se_cmd, SAM_STAT_TASK_ABORTED);
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
