// SPDX-License-Identifier: GPL-2.0
/*
 * rx.c - the receive side of the Full Feature Phase. One kthread per
 * connection reads whole PDUs (BHS, AHS, header digest, data, padding, data
 * digest) and treats every byte as hostile: lengths are checked against the
 * negotiated limits before anything is read into memory.
 *
 * ErrorRecoveryLevel 0 only: an error the RFC cannot recover within a
 * connection at ERL 0 (digest errors, Data-Out outside its R2T) is answered
 * with a Reject where one is defined and then the connection is closed. A
 * Data-Out out of DataSN order ends only its task (ih_rx_data_out_failed).
 */
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <linux/highmem.h>
#include <linux/crc32c.h>
#include <asm/unaligned.h>
#include <net/sock.h>
#include <scsi/scsi_common.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "ih.h"

#define IH_MAX_WRITE_LEN	(16U * 1024 * 1024)	/* matches max_data_sg_nents */

/* -------------------------------------------------------------- socket I/O */

static int ih_recv(struct ih_conn *conn, void *buf, size_t len)
{
	while (len) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec iov = { .iov_base = buf, .iov_len = len };
		int n;

		if (kthread_should_stop() || atomic_read(&conn->closing))
			return -ESHUTDOWN;
		n = kernel_recvmsg(conn->sock, &msg, &iov, 1, len, MSG_WAITALL);
		if (n == -EINTR || n == -EAGAIN || n == -ERESTARTSYS)
			continue;
		if (n <= 0)
			return n ? n : -ECONNRESET;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Receive until msg's iterator is full: MSG_WAITALL can still return early. */
static int ih_recv_iter(struct ih_conn *conn, struct msghdr *msg)
{
	while (msg_data_left(msg)) {
		int n;

		if (kthread_should_stop() || atomic_read(&conn->closing))
			return -ESHUTDOWN;
		n = sock_recvmsg(conn->sock, msg, MSG_WAITALL);
		if (n == -EINTR || n == -EAGAIN || n == -ERESTARTSYS)
			continue;
		if (n <= 0)
			return n ? n : -ECONNRESET;
	}
	return 0;
}

/* Receive the nr pages gathered in conn->rx_bvec (len bytes), then their CRC. */
static int ih_recv_bvecs(struct ih_conn *conn, unsigned int nr, u32 len, u32 *crc)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	unsigned int i;
	int ret;

	iov_iter_bvec(&msg.msg_iter, ITER_DEST, conn->rx_bvec, nr, len);
	ret = ih_recv_iter(conn, &msg);
	if (ret || !conn->sess->params.data_digest)
		return ret;
	for (i = 0; i < nr; i++) {
		struct bio_vec *bv = &conn->rx_bvec[i];
		void *va = kmap_local_page(bv->bv_page);

		*crc = crc32c(*crc, va + bv->bv_offset, bv->bv_len);
		kunmap_local(va);
	}
	return 0;
}

/*
 * Read len bytes into a scatterlist at byte offset off, updating the data
 * CRC. The pages go to the socket together (up to IH_RX_BVECS at a time):
 * one receive per page cost a socket lock round trip, a receive-queue walk
 * and often a window-update ACK every 4 KiB of a write's data.
 */
static int ih_recv_sg(struct ih_conn *conn, struct scatterlist *sgl, u32 off,
		      u32 len, u32 *crc)
{
	struct scatterlist *sg = sgl;
	unsigned int nr = 0;
	u32 gathered = 0;
	int ret;

	while (sg && off >= sg->length) {
		off -= sg->length;
		sg = sg_next(sg);
	}
	while (len && sg) {
		u32 n = min_t(u32, len, sg->length - off);
		struct bio_vec *bv = &conn->rx_bvec[nr++];

		bv->bv_page = sg_page(sg);
		bv->bv_offset = sg->offset + off;
		bv->bv_len = n;
		gathered += n;
		len -= n;
		off = 0;
		sg = sg_next(sg);
		if (nr == IH_RX_BVECS || !len || !sg) {
			ret = ih_recv_bvecs(conn, nr, gathered, crc);
			if (ret)
				return ret;
			nr = 0;
			gathered = 0;
		}
	}
	return len ? -EIO : 0;
}

/* Padding and data digest of a data segment of length len; true if the digest matched. */
static int ih_recv_trailer(struct ih_conn *conn, u32 len, u32 crc, bool *digest_ok)
{
	u8 buf[8];
	u32 pad = ih_pad4(len), n = pad;
	int ret;

	*digest_ok = true;
	if (conn->sess->params.data_digest)
		n += 4;
	if (!n)
		return 0;
	ret = ih_recv(conn, buf, n);
	if (ret)
		return ret;
	if (conn->sess->params.data_digest) {
		__le32 got;

		if (pad)
			crc = crc32c(crc, buf, pad);
		memcpy(&got, buf + pad, 4);
		*digest_ok = le32_to_cpu(got) == ~crc;
	}
	return 0;
}

/* Read (and check) a data segment into conn->rx_buf. */
static int ih_recv_data_buf(struct ih_conn *conn, u32 len, bool *digest_ok)
{
	int ret;

	*digest_ok = true;
	if (!len)
		return 0;
	ret = ih_recv(conn, conn->rx_buf, len);
	if (ret)
		return ret;
	return ih_recv_trailer(conn, len,
			       conn->sess->params.data_digest ? crc32c(~0U, conn->rx_buf, len) : 0,
			       digest_ok);
}

static void ih_count_error(struct ih_conn *conn)
{
	atomic64_inc(&conn->stats.errors);
	atomic64_inc(&conn->sess->stats.errors);
}

static void ih_digest_error(struct ih_conn *conn, const u8 *bhs)
{
	atomic64_inc(&conn->stats.digest_errors);
	atomic64_inc(&conn->sess->stats.digest_errors);
	/* s.7.8: at ERL 0 a payload digest error ends the connection. */
	ih_send_reject(conn, ISCSI_REASON_DATA_DIGEST_ERROR, bhs,
		       ISCSI_HANDOFF_REASON_DIGEST_ERROR);
}

/* ------------------------------------------------------------ CmdSN checks */

enum ih_sn_verdict { IH_SN_NOW, IH_SN_LATER, IH_SN_DROP };

/*
 * RFC 7143 s.3.2.2.1: a non-immediate command is delivered in CmdSN order;
 * one before ExpCmdSN is a duplicate and one beyond MaxCmdSN is outside the
 * window; both are silently discarded.
 */
static enum ih_sn_verdict ih_check_cmdsn(struct ih_sess *sess, u32 cmdsn)
{
	enum ih_sn_verdict v;

	spin_lock_bh(&sess->sn_lock);
	if (ih_sn_lt(cmdsn, sess->exp_cmdsn) || ih_sn_gt(cmdsn, sess->max_cmdsn))
		v = IH_SN_DROP;
	else if (cmdsn == sess->exp_cmdsn)
		v = IH_SN_NOW;
	else
		v = IH_SN_LATER;
	spin_unlock_bh(&sess->sn_lock);
	return v;
}

static void ih_advance_exp_cmdsn(struct ih_sess *sess)
{
	spin_lock_bh(&sess->sn_lock);
	sess->exp_cmdsn++;
	spin_unlock_bh(&sess->sn_lock);
}

/* Deliver queued commands whose turn has come. Under cmdsn_mutex. */
static void ih_drain_ooo(struct ih_sess *sess)
{
	struct ih_cmd *cmd;

	for (;;) {
		bool found = false;

		list_for_each_entry(cmd, &sess->ooo_list, ooo_node) {
			if (cmd->cmdsn == ih_sess_exp_cmdsn(sess)) {
				found = true;
				break;
			}
		}
		if (!found)
			return;
		list_del_init(&cmd->ooo_node);
		ih_advance_exp_cmdsn(sess);
		if (cmd->abort_unsubmitted)
			ih_cmd_free_unsubmitted(cmd);	/* aborted before its turn */
		else
			ih_cmd_submit(cmd);
	}
}

/* Deliver a SCSI command now or once the commands before it have arrived. */
static void ih_sequence_cmd(struct ih_conn *conn, struct ih_cmd *cmd)
{
	struct ih_sess *sess = conn->sess;

	if (cmd->immediate) {
		ih_cmd_submit(cmd);
		return;
	}
	mutex_lock(&sess->cmdsn_mutex);
	switch (ih_check_cmdsn(sess, cmd->cmdsn)) {
	case IH_SN_NOW:
		ih_advance_exp_cmdsn(sess);
		ih_cmd_submit(cmd);
		ih_drain_ooo(sess);
		break;
	case IH_SN_LATER:
		list_add_tail(&cmd->ooo_node, &sess->ooo_list);
		break;
	case IH_SN_DROP:
		/* Raced with a duplicate: nothing was submitted. */
		ih_cmd_free_unsubmitted(cmd);
		break;
	}
	mutex_unlock(&sess->cmdsn_mutex);
}

/*
 * A non-SCSI, non-immediate PDU (NOP-Out, TMF, Logout) consumes its CmdSN
 * when it is the expected one; its window slot is free again at once since
 * it holds nothing in the target. Returns false if it must be dropped.
 */
static bool ih_take_cmdsn(struct ih_conn *conn, const u8 *bhs, u32 cmdsn)
{
	struct ih_sess *sess = conn->sess;
	bool ok = true;

	if (bhs[0] & ISCSI_OP_IMMEDIATE)
		return true;
	mutex_lock(&sess->cmdsn_mutex);
	switch (ih_check_cmdsn(sess, cmdsn)) {
	case IH_SN_NOW:
		ih_advance_exp_cmdsn(sess);
		ih_sess_cmd_done(sess);
		ih_drain_ooo(sess);
		break;
	case IH_SN_LATER:
		/*
		 * Only possible with MC/S; delivered now rather than held, since
		 * it carries no SCSI task whose order matters to the LU.
		 */
		break;
	case IH_SN_DROP:
		ok = false;
		break;
	}
	mutex_unlock(&sess->cmdsn_mutex);
	return ok;
}

/* ------------------------------------------------------------------ NOP-Out */

/*
 * The start of a NOP-Out or Text Request: its data segment into rx_buf, the
 * data digest checked, then its CmdSN taken. Returns < 0 to close the
 * connection, 0 when the PDU is dropped (a duplicate or out-of-window CmdSN,
 * s.4.2.2.1), 1 when it is to be processed.
 */
static int ih_rx_data_segment(struct ih_conn *conn, u8 *bhs, u32 dlen, u32 cmdsn)
{
	bool digest_ok;
	int ret;

	ret = ih_recv_data_buf(conn, dlen, &digest_ok);
	if (ret)
		return ret;
	if (!digest_ok) {
		ih_digest_error(conn, bhs);
		return -EPROTO;
	}
	return ih_take_cmdsn(conn, bhs, cmdsn) ? 1 : 0;
}

static int ih_rx_nop_out(struct ih_conn *conn, u8 *bhs, u32 dlen)
{
	struct iscsi_nopout *h = (struct iscsi_nopout *)bhs;
	struct iscsi_nopin *rsp;
	struct ih_raw *raw;
	int ret;

	ret = ih_rx_data_segment(conn, bhs, dlen, be32_to_cpu(h->cmdsn));
	if (ret <= 0)
		return ret;
	/* A valid TTT answers our NOP-In ping (s.11.18); it is never replied to. */
	if (h->ttt != cpu_to_be32(ISCSI_RESERVED_TAG)) {
		ih_nop_answered(conn, be32_to_cpu(h->ttt));
		return 0;
	}
	/* ITT 0xffffffff: a one-way ping; no reply (s.11.18). */
	if (h->itt == RESERVED_ITT)
		return 0;
	raw = ih_raw_alloc(dlen, GFP_KERNEL);
	if (!raw)
		return -ENOMEM;
	rsp = (struct iscsi_nopin *)raw->bhs;
	rsp->opcode = ISCSI_OP_NOOP_IN;
	rsp->flags = ISCSI_FLAG_CMD_FINAL;
	rsp->lun = h->lun;
	rsp->itt = h->itt;
	rsp->ttt = cpu_to_be32(ISCSI_RESERVED_TAG);
	ih_set_dlength(raw->bhs, dlen);
	memcpy(raw->data, conn->rx_buf, dlen);	/* the ping data is echoed */
	raw->advance_statsn = true;
	ih_tx_queue_raw(conn, raw);
	return 0;
}

/* -------------------------------------------------------------- SCSI Command */

static int ih_discard(struct ih_conn *conn, u32 dlen)
{
	bool digest_ok;

	return ih_recv_data_buf(conn, dlen, &digest_ok);
}

static int ih_task_attr(u8 flags)
{
	switch (flags & ISCSI_FLAG_CMD_ATTR_MASK) {
	case ISCSI_ATTR_ORDERED:
		return TCM_ORDERED_TAG;
	case ISCSI_ATTR_HEAD_OF_QUEUE:
		return TCM_HEAD_TAG;
	case ISCSI_ATTR_ACA:
		return TCM_ACA_TAG;
	default:	/* untagged is treated as simple (s.11.3.1.3) */
		return TCM_SIMPLE_TAG;
	}
}

/* Parse AHS: the Extended CDB (type 1) is supported; the bidi length (type 2) is noted. */
static int ih_parse_ahs(struct ih_cmd *cmd, const u8 *ahs, u32 ahs_len, bool *bidi)
{
	u32 pos = 0;

	while (pos + 4 <= ahs_len) {
		u16 alen = get_unaligned_be16(ahs + pos);
		u8 type = ahs[pos + 2];
		u32 total = ALIGN(alen + 3, 4);

		if (pos + total > ahs_len || alen == 0)
			return -EINVAL;
		if (type == 1) {
			/* ahs[pos+3] is reserved; alen counts it plus the CDB spillover. */
			u32 extra = alen - 1;
			u8 *cdb;

			if (extra == 0 || 16 + extra > SCSI_MAX_VARLEN_CDB_SIZE || cmd->cdb != cmd->cdb_buf)
				return -EINVAL;
			cdb = kmalloc(16 + extra, GFP_KERNEL);
			if (!cdb)
				return -ENOMEM;
			memcpy(cdb, cmd->cdb_buf, 16);
			memcpy(cdb + 16, ahs + pos + 4, extra);
			cmd->cdb = cdb;
		} else if (type == 2) {
			*bidi = true;
		} else {
			return -EINVAL;
		}
		pos += total;
	}
	return pos == ahs_len ? 0 : -EINVAL;
}

static int ih_rx_scsi_cmd(struct ih_conn *conn, u8 *bhs, u32 ahs_len, u32 dlen)
{
	struct iscsi_scsi_req *h = (struct iscsi_scsi_req *)bhs;
	struct ih_params *p = &conn->sess->params;
	bool immediate = bhs[0] & ISCSI_OP_IMMEDIATE;
	bool rd = h->flags & ISCSI_FLAG_CMD_READ, wr = h->flags & ISCSI_FLAG_CMD_WRITE;
	u32 edtl = be32_to_cpu(h->data_length), cmdsn = be32_to_cpu(h->cmdsn);
	bool bidi = false, digest_ok = true;
	u32 crc = ~0U;
	struct ih_cmd *cmd;
	int ret;

	atomic64_inc(&conn->stats.commands);
	atomic64_inc(&conn->sess->stats.commands);

	/* s.11.3: immediate data only with W, never beyond EDTL, FirstBurstLength or when refused. */
	if ((dlen && (!wr || dlen > edtl || !p->immediate_data || dlen > p->first_burst)) ||
	    (wr && edtl > IH_MAX_WRITE_LEN) || (!rd && !wr && edtl)) {
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs, 0);
		if (!immediate)
			ih_take_cmdsn(conn, bhs, cmdsn);
		return 0;
	}
	if (!immediate && ih_check_cmdsn(conn->sess, cmdsn) == IH_SN_DROP) {
		/* Duplicate or outside the window: silently ignored (s.4.2.2.1). */
		ih_count_error(conn);
		return ih_discard(conn, dlen);
	}

	cmd = ih_cmd_alloc(conn);
	if (!cmd) {
		ret = ih_discard(conn, dlen);
		return ret ? ret : -ENOMEM;
	}
	cmd->itt = be32_to_cpu((__force __be32)h->itt);
	cmd->cmdsn = cmdsn;
	cmd->immediate = immediate;
	cmd->edtl = edtl;
	cmd->lun_raw = h->lun;
	cmd->unpacked_lun = scsilun_to_int(&h->lun);
	cmd->iscsi_task_attr = ih_task_attr(h->flags);
	cmd->dir = wr ? DMA_TO_DEVICE : (rd ? DMA_FROM_DEVICE : DMA_NONE);
	memcpy(cmd->cdb_buf, h->cdb, 16);
	ret = ahs_len ? ih_parse_ahs(cmd, conn->ahs, ahs_len, &bidi) : 0;
	if (ret || bidi || (rd && wr)) {
		/* A bad AHS, or a bidirectional command: not supported by this fabric. */
		ih_cmd_free_unsubmitted(cmd);
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_CMD_NOT_SUPPORTED, bhs, 0);
		if (!immediate)
			ih_take_cmdsn(conn, bhs, cmdsn);
		return 0;
	}

	if (wr && edtl) {
		ret = target_alloc_sgl(&cmd->wsgl, &cmd->wnents, edtl, false, false);
		if (ret) {
			cmd->wsgl = NULL;
			ih_cmd_free_unsubmitted(cmd);
			ret = ih_discard(conn, dlen);
			return ret ? ret : -ENOMEM;
		}
		/* s.4.2.5.2: unsolicited data (immediate + Data-Out) is at most FirstBurstLength. */
		cmd->unsol_limit = p->initial_r2t ? dlen : min(p->first_burst, edtl);
		cmd->unsol_done = p->initial_r2t || (h->flags & ISCSI_FLAG_CMD_FINAL);
	} else {
		cmd->unsol_done = true;
	}

	/* The ITT identifies the task on this connection; reuse while live is an error (s.11.17.1). */
	ret = xa_insert_bh(&conn->cmds, cmd->itt, cmd, GFP_KERNEL);
	if (ret) {
		ih_cmd_free_unsubmitted(cmd);
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_TASK_IN_PROGRESS, bhs, 0);
		return 0;
	}
	cmd->in_xa = true;

	if (dlen) {
		ret = ih_recv_sg(conn, cmd->wsgl, 0, dlen, &crc);
		if (!ret)
			ret = ih_recv_trailer(conn, dlen, crc, &digest_ok);
		if (ret) {
			ih_cmd_free_unsubmitted(cmd);
			return ret;
		}
		if (!digest_ok) {
			ih_cmd_free_unsubmitted(cmd);
			ih_digest_error(conn, bhs);
			return -EPROTO;
		}
		cmd->write_received = dlen;
		cmd->unsol_received = dlen;
		cmd->unsol_next_offset = dlen;
		atomic64_add(dlen, &conn->stats.write_bytes);
		atomic64_add(dlen, &conn->sess->stats.write_bytes);
	}
	ih_sequence_cmd(conn, cmd);
	return 0;
}

/* ----------------------------------------------------------------- Data-Out */

/*
 * Moves the Data-Out sequence of cmd past one PDU (unsolicited when r2t is
 * NULL), with cmd->lock held. Returns true when an R2T's burst ended short of
 * its length although later bytes were already asked for (a protocol error;
 * a short last burst is re-asked in a later R2T).
 */
static bool ih_data_out_advance(struct ih_cmd *cmd, struct ih_r2t *r2t,
				u32 offset, u32 dlen, bool final)
{
	bool short_burst = false;

	if (!r2t) {
		cmd->unsol_received += dlen;
		cmd->unsol_next_datasn++;
		cmd->unsol_next_offset = offset + dlen;
		if (final || cmd->unsol_received >= cmd->unsol_limit)
			cmd->unsol_done = true;
		return false;
	}
	r2t->received += dlen;
	r2t->next_datasn++;
	r2t->next_offset = offset + dlen;
	if (final || r2t->received >= r2t->length) {
		short_burst = r2t->received < r2t->length &&
			      r2t->offset + r2t->received < cmd->r2t_next_offset;
		r2t->active = false;
	}
	return short_burst;
}

/*
 * A Data-Out whose DataSN is not the next one means an earlier PDU of the
 * sequence was lost to a digest error the target never saw (RFC 7143,
 * "Sequence Errors"), and is handled as that digest error: at ERL 0 there is
 * no recovery R2T, so the target takes option b) of "Digest Errors" and ends
 * the task with CHECK CONDITION, "protocol service CRC error" (s.11.4.7.2),
 * after the rest of the task's data has come (every outstanding burst ended by
 * the F bit). The connection and every other task go on. The payload is
 * discarded; this PDU and any later one of the task only count towards the
 * end of their burst. ih_write_data_progress() sends no further R2T and fails
 * the task once nothing is outstanding. Called with a reference on cmd, which
 * it drops.
 */
static int ih_rx_data_out_failed(struct ih_conn *conn, struct ih_cmd *cmd,
				 struct ih_r2t *r2t, u32 offset, u32 dlen,
				 bool final)
{
	bool first;
	int ret;

	ret = ih_discard(conn, dlen);
	if (ret) {
		ih_cmd_put(cmd);
		return ret;
	}
	spin_lock_bh(&cmd->lock);
	first = !cmd->data_failed;
	cmd->data_failed = true;
	ih_data_out_advance(cmd, r2t, offset, dlen, final);
	spin_unlock_bh(&cmd->lock);
	if (first) {
		ih_count_error(conn);
		ih_conn_log(warn_ratelimited, conn,
			    "Data-Out out of DataSN order for ITT 0x%08x: the task ends in CHECK CONDITION\n",
			cmd->itt);
	}
	ih_write_data_progress(cmd);
	ih_cmd_put(cmd);
	return 0;
}

static int ih_rx_data_out(struct ih_conn *conn, u8 *bhs, u32 dlen)
{
	struct iscsi_data *h = (struct iscsi_data *)bhs;
	struct ih_params *p = &conn->sess->params;
	u32 itt = be32_to_cpu((__force __be32)h->itt), ttt = be32_to_cpu(h->ttt);
	u32 datasn = be32_to_cpu(h->datasn), offset = be32_to_cpu(h->offset);
	bool final = h->flags & ISCSI_FLAG_CMD_FINAL;
	struct ih_r2t *r2t = NULL;
	struct ih_cmd *cmd;
	bool bad = false, sequence_error = false, digest_ok;
	u32 crc = ~0U;
	int i, ret;

	cmd = ih_cmd_lookup(conn, itt);
	if (!cmd || cmd->is_tmr || cmd->dir != DMA_TO_DEVICE || !cmd->wsgl) {
		/* A task that already ended (e.g. failed with CHECK CONDITION): drop the data. */
		if (cmd)
			ih_cmd_put(cmd);
		ih_count_error(conn);
		return ih_discard(conn, dlen);
	}

	spin_lock_bh(&cmd->lock);
	if (ttt == ISCSI_RESERVED_TAG) {
		/* Unsolicited Data-Out (s.4.2.5.2). */
		if (cmd->unsol_done ||
		    (p->data_pdu_in_order && offset != cmd->unsol_next_offset) ||
		    offset + dlen > cmd->unsol_limit || offset + dlen < offset)
			bad = true;
		else if (datasn != cmd->unsol_next_datasn)
			sequence_error = true;
	} else {
		for (i = 0; i < IH_MAX_R2T_PER_CMD; i++)
			if (cmd->r2t[i].active && cmd->r2t[i].ttt == ttt)
				r2t = &cmd->r2t[i];
		/* s.11.7.5/6: DataSN counts from 0 per R2T; offsets stay in the R2T's range. */
		if (!r2t ||
		    (p->data_pdu_in_order && offset != r2t->next_offset) ||
		    offset < r2t->offset || offset + dlen < offset ||
		    offset + dlen > r2t->offset + r2t->length)
			bad = true;
		else if (datasn != r2t->next_datasn)
			sequence_error = true;
	}
	spin_unlock_bh(&cmd->lock);
	if (!bad && offset + dlen <= cmd->edtl && (sequence_error || cmd->data_failed))
		return ih_rx_data_out_failed(conn, cmd, r2t, offset, dlen, final);
	if (bad || offset + dlen > cmd->edtl) {
		ih_cmd_put(cmd);
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		/* ERL 0 cannot recover a broken Data-Out sequence: reject, then drop. */
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs,
			       ISCSI_HANDOFF_REASON_PROTOCOL_ERROR);
		return -EPROTO;
	}

	ret = ih_recv_sg(conn, cmd->wsgl, offset, dlen, &crc);
	if (!ret)
		ret = ih_recv_trailer(conn, dlen, crc, &digest_ok);
	if (ret) {
		ih_cmd_put(cmd);
		return ret;
	}
	if (!digest_ok) {
		ih_cmd_put(cmd);
		ih_digest_error(conn, bhs);
		return -EPROTO;
	}
	atomic64_add(dlen, &conn->stats.write_bytes);
	atomic64_add(dlen, &conn->sess->stats.write_bytes);

	spin_lock_bh(&cmd->lock);
	cmd->write_received += dlen;
	bad = ih_data_out_advance(cmd, r2t, offset, dlen, final);
	spin_unlock_bh(&cmd->lock);
	if (bad) {
		ih_cmd_put(cmd);
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs,
			       ISCSI_HANDOFF_REASON_PROTOCOL_ERROR);
		return -EPROTO;
	}
	ih_write_data_progress(cmd);
	ih_cmd_put(cmd);
	return 0;
}

/* --------------------------------------------------------- Task Management */

static struct ih_raw *ih_tmf_reply(struct ih_conn *conn, const u8 *bhs, u8 response,
				   bool queue)
{
	const struct iscsi_tm *h = (const struct iscsi_tm *)bhs;
	struct iscsi_tm_rsp *rsp;
	struct ih_raw *raw = ih_raw_alloc(0, GFP_KERNEL);

	if (!raw)
		return NULL;
	rsp = (struct iscsi_tm_rsp *)raw->bhs;
	rsp->opcode = ISCSI_OP_SCSI_TMFUNC_RSP;
	rsp->flags = ISCSI_FLAG_CMD_FINAL;
	rsp->response = response;
	rsp->itt = h->itt;
	raw->advance_statsn = true;
	if (queue)
		ih_tx_queue_raw(conn, raw);
	return raw;
}

/*
 * ABORT TASK of a command of this connection that is still held back for
 * CmdSN order: target core has never seen it, so the fabric aborts it. It
 * stays in the queue to keep its CmdSN (the window must still advance past
 * it) and is freed instead of submitted when its turn comes.
 */
static bool ih_abort_held_cmd(struct ih_conn *conn, u32 ref_itt)
{
	struct ih_sess *sess = conn->sess;
	struct ih_cmd *cmd;
	bool found = false;

	mutex_lock(&sess->cmdsn_mutex);
	list_for_each_entry(cmd, &sess->ooo_list, ooo_node) {
		if (cmd->conn == conn && cmd->itt == ref_itt && !cmd->abort_unsubmitted) {
			cmd->abort_unsubmitted = true;
			found = true;
			break;
		}
	}
	mutex_unlock(&sess->cmdsn_mutex);
	return found;
}

static int ih_rx_tmf(struct ih_conn *conn, u8 *bhs, u32 dlen)
{
	struct iscsi_tm *h = (struct iscsi_tm *)bhs;
	u8 func = ISCSI_TM_FUNC_VALUE(h);
	struct ih_cmd *cmd;
	int ret;

	ret = ih_discard(conn, dlen);
	if (ret)
		return ret;
	if (!(h->flags & ISCSI_FLAG_CMD_FINAL) || dlen) {
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs, 0);
		return 0;
	}
	if (!ih_take_cmdsn(conn, bhs, be32_to_cpu(h->cmdsn)))
		return 0;

	if (func == ISCSI_TM_FUNC_TASK_REASSIGN) {
		/* s.11.6.1: allegiance reassignment needs ERL 2. */
		ih_tmf_reply(conn, bhs, ISCSI_TMF_RSP_NO_FAILOVER, true);
		return 0;
	}
	if (func < ISCSI_TM_FUNC_ABORT_TASK || func > ISCSI_TM_FUNC_TARGET_COLD_RESET) {
		ih_tmf_reply(conn, bhs, ISCSI_TMF_RSP_REJECTED, true);
		return 0;
	}
	if (func == ISCSI_TM_FUNC_ABORT_TASK &&
	    ih_abort_held_cmd(conn, be32_to_cpu((__force __be32)h->rtt))) {
		ih_tmf_reply(conn, bhs, ISCSI_TMF_RSP_COMPLETE, true);
		return 0;
	}
	if (func == ISCSI_TM_FUNC_TARGET_COLD_RESET) {
		/*
		 * s.11.5.1: the target answers, then closes every TCP connection
		 * of every initiator (all sessions of this target end). Ending
		 * the sessions aborts their tasks through target core.
		 */
		struct ih_raw *raw = ih_tmf_reply(conn, bhs, ISCSI_TMF_RSP_COMPLETE, false);

		if (!raw) {
			ih_close_target_sessions(conn->sess->tpg->tiqn,
						 ISCSI_HANDOFF_REASON_TARGET_COLD_RESET);
			return -ESHUTDOWN;
		}
		raw->close_reason = ISCSI_HANDOFF_REASON_TARGET_COLD_RESET;
		raw->close_target = true;
		ih_tx_queue_raw(conn, raw);
		return 0;
	}

	cmd = ih_cmd_alloc(conn);
	if (!cmd)
		return -ENOMEM;
	cmd->is_tmr = true;
	cmd->immediate = true;		/* its CmdSN, if any, was consumed above */
	cmd->itt = be32_to_cpu((__force __be32)h->itt);
	cmd->ref_itt = be32_to_cpu((__force __be32)h->rtt);
	cmd->tmr_func = func;
	cmd->lun_raw = h->lun;
	cmd->unpacked_lun = scsilun_to_int(&h->lun);
	cmd->dir = DMA_NONE;
	if (xa_insert_bh(&conn->cmds, cmd->itt, cmd, GFP_KERNEL)) {
		ih_cmd_free_unsubmitted(cmd);
		ih_send_reject(conn, ISCSI_REASON_TASK_IN_PROGRESS, bhs, 0);
		return 0;
	}
	cmd->in_xa = true;
	ih_cmd_submit_tmr(cmd);
	return 0;
}

/* ------------------------------------------------------------------ Logout */

static int ih_rx_logout(struct ih_conn *conn, u8 *bhs, u32 dlen)
{
	struct iscsi_logout *h = (struct iscsi_logout *)bhs;
	u8 reason = h->flags & ISCSI_FLAG_LOGOUT_REASON_MASK;
	u16 cid = be16_to_cpu(h->cid);
	struct iscsi_logout_rsp *rsp;
	struct ih_raw *raw;
	struct ih_conn *other;
	int ret;

	ret = ih_discard(conn, dlen);
	if (ret)
		return ret;
	if (!ih_take_cmdsn(conn, bhs, be32_to_cpu(h->cmdsn)))
		return 0;
	raw = ih_raw_alloc(0, GFP_KERNEL);
	if (!raw)
		return -ENOMEM;
	rsp = (struct iscsi_logout_rsp *)raw->bhs;
	rsp->opcode = ISCSI_OP_LOGOUT_RSP;
	rsp->flags = ISCSI_FLAG_CMD_FINAL;
	rsp->itt = h->itt;
	raw->advance_statsn = true;

	switch (reason) {
	case ISCSI_LOGOUT_REASON_CLOSE_SESSION:
		rsp->response = ISCSI_LOGOUT_SUCCESS;
		raw->close_reason = ISCSI_HANDOFF_REASON_LOGOUT;
		raw->close_session = true;
		break;
	case ISCSI_LOGOUT_REASON_CLOSE_CONNECTION:
		if (cid == conn->cid) {
			rsp->response = ISCSI_LOGOUT_SUCCESS;
			raw->close_reason = ISCSI_HANDOFF_REASON_LOGOUT;
			break;
		}
		rsp->response = ISCSI_LOGOUT_CID_NOT_FOUND;
		mutex_lock(&ih_lock);
		list_for_each_entry(other, &conn->sess->conns, sess_node) {
			if (other->cid == cid && other != conn) {
				ih_conn_close(other, ISCSI_HANDOFF_REASON_LOGOUT);
				rsp->response = ISCSI_LOGOUT_SUCCESS;
			}
		}
		mutex_unlock(&ih_lock);
		break;
	default:
		/* s.11.14.1: "connection recovery is not supported" at ERL 0. */
		rsp->response = ISCSI_LOGOUT_RECOVERY_UNSUPPORTED;
		break;
	}
	if (raw->close_reason)
		atomic_set(&conn->state, IH_CONN_LOGGED_OUT);
	ih_tx_queue_raw(conn, raw);
	return 0;
}

/* -------------------------------------------------------------------- Text */

static int ih_rx_text(struct ih_conn *conn, u8 *bhs, u32 dlen)
{
	struct iscsi_text *h = (struct iscsi_text *)bhs;
	int ret;

	ret = ih_rx_data_segment(conn, bhs, dlen, be32_to_cpu(h->cmdsn));
	if (ret <= 0)
		return ret;
	return ih_text_request(conn, bhs, conn->rx_buf, dlen);
}

/* ------------------------------------------------------------------- thread */

static int ih_rx_pdu(struct ih_conn *conn)
{
	struct ih_params *p = &conn->sess->params;
	u8 *bhs = conn->bhs;
	u32 ahs_len, dlen;
	u8 op;
	int ret;

	ret = ih_recv(conn, bhs, IH_BHS_LEN);
	if (ret)
		return ret;
	ih_nop_rx(conn);
	if (!conn->first_pdu_seen) {
		WRITE_ONCE(conn->first_pdu_seen, true);
		wake_up(&conn->tx_wait);
	}
	ahs_len = bhs[4] * 4;
	if (ahs_len) {
		ret = ih_recv(conn, conn->ahs, ahs_len);
		if (ret)
			return ret;
	}
	if (p->header_digest) {
		__le32 got;
		u32 crc = crc32c(~0U, bhs, IH_BHS_LEN);

		ret = ih_recv(conn, &got, 4);
		if (ret)
			return ret;
		if (ahs_len)
			crc = crc32c(crc, conn->ahs, ahs_len);
		if (le32_to_cpu(got) != ~crc) {
			/* s.7.8: the length cannot be trusted; the connection ends. */
			atomic64_inc(&conn->stats.digest_errors);
			atomic64_inc(&conn->sess->stats.digest_errors);
			ih_count_error(conn);
			ih_conn_close(conn, ISCSI_HANDOFF_REASON_DIGEST_ERROR);
			return -EPROTO;
		}
	}

	op = bhs[0] & ISCSI_OPCODE_MASK;
	dlen = ih_dlength(bhs);
	if (dlen > p->max_recv_dsl) {
		/* Beyond our MaxRecvDataSegmentLength (s.13.12): protocol error, then drop. */
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs,
			       ISCSI_HANDOFF_REASON_PROTOCOL_ERROR);
		return -EPROTO;
	}
	if (ahs_len && op != ISCSI_OP_SCSI_CMD) {
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs, 0);
		return 0;
	}
	if (op != ISCSI_OP_SCSI_DATA_OUT && op != ISCSI_OP_SNACK)
		conn->exp_statsn = be32_to_cpu(((struct iscsi_hdr *)bhs)->exp_statsn);

	switch (op) {
	case ISCSI_OP_NOOP_OUT:
		return ih_rx_nop_out(conn, bhs, dlen);
	case ISCSI_OP_SCSI_CMD:
		return ih_rx_scsi_cmd(conn, bhs, ahs_len, dlen);
	case ISCSI_OP_SCSI_DATA_OUT:
		return ih_rx_data_out(conn, bhs, dlen);
	case ISCSI_OP_SCSI_TMFUNC:
		return ih_rx_tmf(conn, bhs, dlen);
	case ISCSI_OP_LOGOUT:
		return ih_rx_logout(conn, bhs, dlen);
	case ISCSI_OP_LOGIN:
		/* A Login in the Full Feature Phase is a protocol error (s.6). */
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_PROTOCOL_ERROR, bhs,
			       ISCSI_HANDOFF_REASON_PROTOCOL_ERROR);
		return -EPROTO;
	case ISCSI_OP_TEXT:
		return ih_rx_text(conn, bhs, dlen);
	case ISCSI_OP_SNACK:
	default:
		/*
		 * SNACK (ERL > 0 only) is not implemented; unknown opcodes are
		 * rejected as s.11.17.1 says.
		 */
		ret = ih_discard(conn, dlen);
		if (ret)
			return ret;
		ih_send_reject(conn, ISCSI_REASON_CMD_NOT_SUPPORTED, bhs, 0);
		return 0;
	}
}

int ih_rx_thread(void *arg)
{
	struct ih_conn *conn = arg;
	int ret = 0;

	while (!kthread_should_stop()) {
		ret = ih_rx_pdu(conn);
		if (ret)
			break;
	}
	/* The initiator closes TCP once it has the Logout Response: that is a logout. */
	if (ret && ret != -EPROTO && ret != -ESHUTDOWN)
		ih_conn_close(conn, atomic_read(&conn->state) == IH_CONN_LOGGED_OUT ?
				    ISCSI_HANDOFF_REASON_LOGOUT : ISCSI_HANDOFF_REASON_PEER_CLOSED);
	if (ret == -EPROTO)
		ih_count_error(conn);
	/* Wait to be stopped by close_work, which holds a task reference. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}
