// SPDX-License-Identifier: GPL-2.0
/*
 * tx.c - everything the target sends. One tx kthread per connection drains
 * a FIFO queue, so StatSN is assigned in the order PDUs leave (RFC 7143
 * s.4.2.2.2) and neither the rx thread nor target core's workers ever block
 * on a full socket.
 */
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <linux/highmem.h>
#include <linux/crc32c.h>
#include <asm/unaligned.h>
#include <net/sock.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>

#include "ih.h"

/* ----------------------------------------------------------- raw socket I/O */

static int ih_send_kvec(struct ih_conn *conn, void *buf, size_t len, bool more)
{
	while (len) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) };
		struct kvec iov = { .iov_base = buf, .iov_len = len };
		int n = kernel_sendmsg(conn->sock, &msg, &iov, 1, len);

		if (n <= 0)
			return n ? n : -EPIPE;
		buf += n;
		len -= n;
	}
	return 0;
}

static int ih_send_page(struct ih_conn *conn, struct page *page, unsigned int off,
			size_t len, bool more)
{
	while (len) {
		int n = kernel_sendpage(conn->sock, page, off, len,
					MSG_NOSIGNAL | (more ? MSG_MORE : 0));

		if (n <= 0)
			return n ? n : -EPIPE;
		off += n;
		len -= n;
	}
	return 0;
}

static u32 ih_crc(u32 crc, const void *buf, size_t len)
{
	return crc32c(crc, buf, len);
}

/* BHS (+ header digest). The caller sends the data segment, if any. */
static int ih_send_bhs(struct ih_conn *conn, u8 *bhs, bool more)
{
	u8 buf[IH_BHS_LEN + 4];

	memcpy(buf, bhs, IH_BHS_LEN);
	if (conn->sess->params.header_digest) {
		__le32 d = cpu_to_le32(~ih_crc(~0U, bhs, IH_BHS_LEN));

		memcpy(buf + IH_BHS_LEN, &d, 4);
		return ih_send_kvec(conn, buf, IH_BHS_LEN + 4, more);
	}
	return ih_send_kvec(conn, buf, IH_BHS_LEN, more);
}

/*
 * What follows a data segment of len bytes on the wire: its padding to a
 * 4-byte boundary and the data digest (RFC 7143 s.11.1).
 *
 * The last bytes of a PDU must be sent without MSG_MORE. MSG_MORE makes TCP
 * hold a partial segment (tcp_push() with TCP_NAGLE_CORK) until more data is
 * written, and nothing else is written while the initiator waits for this
 * very response: the bytes then sit in the send queue until the zero-window
 * probe timer (at least TCP_RTO_MIN, 200 ms, longer with a large RTO under
 * load) pushes them out. When a data segment is 4-byte aligned and there is
 * no DataDigest the trailer is empty, so the segment itself is the end of
 * the PDU: a Data-In with status, a SCSI Response with sense data, a Reject,
 * a NOP-In or Text Response with data. With one command outstanding (the
 * initiator's queue depth 1, or a CmdSN window of one) every read then took
 * 200+ ms (iscsi-perf -m 1 -b 1 read at 4 IOPS in the TCG guest).
 */
static u32 ih_trailer_len(struct ih_conn *conn, u32 len)
{
	return ih_pad4(len) + (conn->sess->params.data_digest ? 4 : 0);
}

/* Padding and data digest after a data segment whose running CRC is crc. */
static int ih_send_trailer(struct ih_conn *conn, u32 len, u32 crc)
{
	u8 buf[8] = { 0 };
	u32 pad = ih_pad4(len), n = pad;

	if (conn->sess->params.data_digest) {
		__le32 d;

		if (pad)
			crc = ih_crc(crc, buf, pad);
		d = cpu_to_le32(~crc);
		memcpy(buf + pad, &d, 4);
		n += 4;
	}
	return n ? ih_send_kvec(conn, buf, n, false) : 0;
}

static int ih_send_buf_pdu(struct ih_conn *conn, u8 *bhs, void *data, u32 len)
{
	int ret = ih_send_bhs(conn, bhs, len > 0);

	if (ret || !len)
		return ret;
	ret = ih_send_kvec(conn, data, len, ih_trailer_len(conn, len) > 0);
	if (ret)
		return ret;
	return ih_send_trailer(conn, len,
			       conn->sess->params.data_digest ? ih_crc(~0U, data, len) : 0);
}

/* -------------------------------------------------------- sequence fields */

static void ih_fill_sn(struct ih_conn *conn, u8 *bhs, bool advance)
{
	struct iscsi_hdr *h = (struct iscsi_hdr *)bhs;
	struct ih_sess *sess = conn->sess;

	h->statsn = cpu_to_be32(conn->stat_sn);
	if (advance)
		conn->stat_sn++;
	spin_lock_bh(&sess->sn_lock);
	h->exp_statsn = cpu_to_be32(sess->exp_cmdsn);	/* ExpCmdSN at this offset in target PDUs */
	h->max_statsn = cpu_to_be32(sess->max_cmdsn);	/* MaxCmdSN */
	spin_unlock_bh(&sess->sn_lock);
}

/* --------------------------------------------------------------- responses */

static void ih_residual(struct se_cmd *se_cmd, u8 *flags, __be32 *count,
			u8 over_bit, u8 under_bit)
{
	struct ih_cmd *cmd = container_of(se_cmd, struct ih_cmd, se_cmd);

	/* RFC 7143 s.11.4.5: O and U bits with the residual count, never both. */
	if (cmd->residual_flag) {
		*flags |= cmd->residual_flag == ISCSI_FLAG_CMD_OVERFLOW ? over_bit : under_bit;
		*count = cpu_to_be32(cmd->residual);
	} else if (se_cmd->se_cmd_flags & SCF_OVERFLOW_BIT) {
		*flags |= over_bit;
		*count = cpu_to_be32(se_cmd->residual_count);
	} else if (se_cmd->se_cmd_flags & SCF_UNDERFLOW_BIT) {
		*flags |= under_bit;
		*count = cpu_to_be32(se_cmd->residual_count);
	}
}

static int ih_send_scsi_rsp(struct ih_conn *conn, struct ih_cmd *cmd, u32 exp_datasn)
{
	struct se_cmd *se_cmd = &cmd->se_cmd;
	struct iscsi_scsi_rsp *rsp;
	u8 bhs[IH_BHS_LEN] = { 0 };
	u8 data[2 + TRANSPORT_SENSE_BUFFER];
	u32 len = 0;

	rsp = (struct iscsi_scsi_rsp *)bhs;
	rsp->opcode = ISCSI_OP_SCSI_CMD_RSP;
	rsp->flags = ISCSI_FLAG_CMD_FINAL;
	rsp->response = ISCSI_STATUS_CMD_COMPLETED;
	rsp->cmd_status = se_cmd->scsi_status;
	rsp->itt = cpu_to_be32(cmd->itt);
	rsp->exp_datasn = cpu_to_be32(exp_datasn);
	ih_residual(se_cmd, &rsp->flags, &rsp->residual_count,
		    ISCSI_FLAG_CMD_OVERFLOW, ISCSI_FLAG_CMD_UNDERFLOW);
	if (se_cmd->scsi_sense_length && se_cmd->sense_buffer) {
		/* s.11.4.7: SenseLength (2 bytes) then the sense data. */
		u16 sl = min_t(u16, se_cmd->scsi_sense_length, TRANSPORT_SENSE_BUFFER);

		put_unaligned_be16(sl, data);
		memcpy(data + 2, se_cmd->sense_buffer, sl);
		len = 2 + sl;
	}
	ih_set_dlength(bhs, len);
	ih_cmd_release_window(cmd);
	ih_fill_sn(conn, bhs, true);
	return ih_send_buf_pdu(conn, bhs, data, len);
}

/* Data-In from the command's own pages (no copy), split by the initiator's MRDSL. */
static int ih_send_data_in(struct ih_conn *conn, struct ih_cmd *cmd)
{
	struct se_cmd *se_cmd = &cmd->se_cmd;
	struct ih_params *p = &conn->sess->params;
	struct scatterlist *sg = se_cmd->t_data_sg;
	u32 total = se_cmd->data_length, offset = 0, sg_off = 0, burst_left;
	bool status_in_data = se_cmd->scsi_status == SAM_STAT_GOOD &&
			      !se_cmd->scsi_sense_length;
	u32 datasn = 0;
	int ret;

	if (total > cmd->edtl)
		total = cmd->edtl;
	burst_left = p->max_burst;
	while (offset < total && sg) {
		struct iscsi_data_rsp *h;
		u8 bhs[IH_BHS_LEN] = { 0 };
		u32 chunk = min3(total - offset, p->max_xmit_dsl, burst_left);
		bool last = offset + chunk == total;
		bool trailer = ih_trailer_len(conn, chunk) > 0;
		u32 left = chunk, crc = ~0U;

		h = (struct iscsi_data_rsp *)bhs;
		h->opcode = ISCSI_OP_SCSI_DATA_IN;
		/* F ends a Data-In sequence: each MaxBurstLength, and the last PDU (s.11.7.1). */
		if (last || chunk == burst_left)
			h->flags |= ISCSI_FLAG_CMD_FINAL;
		h->itt = cpu_to_be32(cmd->itt);
		h->ttt = cpu_to_be32(ISCSI_RESERVED_TAG);
		h->datasn = cpu_to_be32(datasn++);
		h->offset = cpu_to_be32(offset);
		ih_set_dlength(bhs, chunk);
		if (last && status_in_data) {
			/* s.11.7.4: status rides in the final Data-In when there is no sense. */
			h->flags |= ISCSI_FLAG_DATA_STATUS;
			h->cmd_status = se_cmd->scsi_status;
			ih_residual(se_cmd, &h->flags, &h->residual_count,
				    ISCSI_FLAG_DATA_OVERFLOW, ISCSI_FLAG_DATA_UNDERFLOW);
			ih_cmd_release_window(cmd);
			ih_fill_sn(conn, bhs, true);
		} else {
			ih_fill_sn(conn, bhs, false);
			h->statsn = 0;	/* reserved without the S bit */
		}
		ret = ih_send_bhs(conn, bhs, true);
		if (ret)
			return ret;
		while (left && sg) {
			u32 n = min_t(u32, left, sg->length - sg_off);

			if (p->data_digest) {
				void *va = kmap_local_page(sg_page(sg));

				crc = ih_crc(crc, va + sg->offset + sg_off, n);
				kunmap_local(va);
			}
			/* MSG_MORE except on the PDU's last byte (ih_trailer_len). */
			ret = ih_send_page(conn, sg_page(sg), sg->offset + sg_off, n,
					   n < left || trailer);
			if (ret)
				return ret;
			left -= n;
			sg_off += n;
			if (sg_off == sg->length) {
				sg = sg_next(sg);
				sg_off = 0;
			}
		}
		if (left)
			return -EIO;	/* scatterlist shorter than data_length: never expected */
		ret = ih_send_trailer(conn, chunk, crc);
		if (ret)
			return ret;
		offset += chunk;
		burst_left -= chunk;
		if (!burst_left)
			burst_left = p->max_burst;
		atomic64_add(chunk, &conn->stats.read_bytes);
		atomic64_add(chunk, &conn->sess->stats.read_bytes);
	}
	if (!total || !status_in_data)
		return ih_send_scsi_rsp(conn, cmd, datasn);
	return 0;
}

static u8 ih_tmr_response(u8 core_response)
{
	switch (core_response) {
	case TMR_FUNCTION_COMPLETE:
		return ISCSI_TMF_RSP_COMPLETE;
	case TMR_TASK_DOES_NOT_EXIST:
		return ISCSI_TMF_RSP_NO_TASK;
	case TMR_LUN_DOES_NOT_EXIST:
		return ISCSI_TMF_RSP_NO_LUN;
	case TMR_TASK_MGMT_FUNCTION_NOT_SUPPORTED:
		return ISCSI_TMF_RSP_NOT_SUPPORTED;
	default:
		return ISCSI_TMF_RSP_REJECTED;
	}
}

static int ih_send_tmr_rsp(struct ih_conn *conn, struct ih_cmd *cmd)
{
	struct iscsi_tm_rsp *h;
	u8 bhs[IH_BHS_LEN] = { 0 };

	h = (struct iscsi_tm_rsp *)bhs;
	h->opcode = ISCSI_OP_SCSI_TMFUNC_RSP;
	h->flags = ISCSI_FLAG_CMD_FINAL;
	h->response = ih_tmr_response(cmd->se_cmd.se_tmr_req->response);
	h->itt = cpu_to_be32(cmd->itt);
	ih_cmd_release_window(cmd);
	ih_fill_sn(conn, bhs, true);
	return ih_send_buf_pdu(conn, bhs, NULL, 0);
}

/* -------------------------------------------------------------- the queue */

static void ih_tx_enqueue(struct ih_conn *conn, struct ih_tx_item *item, bool *dropped)
{
	spin_lock_bh(&conn->tx_lock);
	*dropped = conn->tx_stop;
	if (!*dropped)
		list_add_tail(&item->node, &conn->tx_queue);
	spin_unlock_bh(&conn->tx_lock);
	if (!*dropped)
		wake_up(&conn->tx_wait);
}

static void ih_tx_discard(struct ih_conn *conn, struct ih_tx_item *item)
{
	if (item->kind == IH_TX_RAW) {
		kfree(container_of(item, struct ih_raw, tx));
	} else {
		struct ih_cmd *cmd = container_of(item, struct ih_cmd, tx);

		/* The response will never leave: drop the acknowledgement reference. */
		target_put_sess_cmd(&cmd->se_cmd);
	}
}

void ih_tx_queue_cmd(struct ih_cmd *cmd, enum ih_tx_kind kind)
{
	bool dropped;

	cmd->tx.kind = kind;
	ih_tx_enqueue(cmd->conn, &cmd->tx, &dropped);
	if (dropped)
		ih_tx_discard(cmd->conn, &cmd->tx);
}

void ih_tx_queue_raw(struct ih_conn *conn, struct ih_raw *raw)
{
	bool dropped;

	raw->tx.kind = IH_TX_RAW;
	ih_tx_enqueue(conn, &raw->tx, &dropped);
	if (dropped)
		kfree(raw);
}

struct ih_raw *ih_raw_alloc(u32 data_len, gfp_t gfp)
{
	struct ih_raw *raw = kzalloc(sizeof(*raw) + data_len, gfp);

	if (raw)
		raw->data_len = data_len;
	return raw;
}

/* RFC 7143 s.11.17: Reject carries the offending BHS as its data. */
void ih_send_reject(struct ih_conn *conn, u8 reason, const u8 *bad_bhs, u32 close_reason)
{
	struct ih_raw *raw = ih_raw_alloc(IH_BHS_LEN, GFP_KERNEL);
	struct iscsi_reject *h;

	atomic64_inc(&conn->stats.rejects);
	atomic64_inc(&conn->sess->stats.rejects);
	atomic64_inc(&conn->stats.errors);
	atomic64_inc(&conn->sess->stats.errors);
	if (!raw) {
		if (close_reason)
			ih_conn_close(conn, close_reason);
		return;
	}
	h = (struct iscsi_reject *)raw->bhs;
	h->opcode = ISCSI_OP_REJECT;
	h->flags = ISCSI_FLAG_CMD_FINAL;
	h->reason = reason;
	h->ffffffff = cpu_to_be32(ISCSI_RESERVED_TAG);
	ih_set_dlength(raw->bhs, IH_BHS_LEN);
	memcpy(raw->data, bad_bhs, IH_BHS_LEN);
	raw->advance_statsn = true;
	raw->close_reason = close_reason;
	ih_tx_queue_raw(conn, raw);
}

/* RFC 7143 s.11.9.1, AsyncEvent 1: "please log out within Parameter3 seconds". */
void ih_send_async_logout(struct ih_conn *conn, u16 deadline_s)
{
	struct ih_raw *raw = ih_raw_alloc(0, GFP_KERNEL);
	struct iscsi_async *h;

	if (!raw)
		return;
	h = (struct iscsi_async *)raw->bhs;
	h->opcode = ISCSI_OP_ASYNC_EVENT;
	h->flags = ISCSI_FLAG_CMD_FINAL;
	memset(h->rsvd4, 0xff, 4);	/* the ITT position holds 0xffffffff */
	h->async_event = ISCSI_ASYNC_MSG_REQUEST_LOGOUT;
	h->param3 = cpu_to_be16(deadline_s);
	raw->advance_statsn = true;
	ih_tx_queue_raw(conn, raw);
}

/* ---------------------------------------------------------------- thread */

static int ih_tx_one(struct ih_conn *conn, struct ih_tx_item *item)
{
	struct ih_cmd *cmd;
	int ret;

	if (item->kind == IH_TX_RAW) {
		struct ih_raw *raw = container_of(item, struct ih_raw, tx);
		u32 close_reason = raw->close_reason;
		bool close_session = raw->close_session;
		bool close_target = raw->close_target;

		/* An R2T carries the next StatSN without consuming it (s.11.8). */
		ih_fill_sn(conn, raw->bhs, raw->advance_statsn);
		ret = ih_send_buf_pdu(conn, raw->bhs, raw->data, raw->data_len);
		kfree(raw);
		if (close_reason) {
			/* e.g. Logout Response sent: the connection ends (s.11.14). */
			if (close_target)
				ih_close_target_sessions(conn->sess->tpg->tiqn, close_reason);
			else if (close_session)
				ih_sess_close(conn->sess, close_reason);
			else
				ih_conn_close(conn, close_reason);
			return -ESHUTDOWN;
		}
		return ret;
	}

	cmd = container_of(item, struct ih_cmd, tx);
	switch (item->kind) {
	case IH_TX_DATA_IN:
		ret = ih_send_data_in(conn, cmd);
		break;
	case IH_TX_STATUS: {
		u32 r2ts;

		spin_lock_bh(&cmd->lock);
		r2ts = cmd->r2tsn;
		spin_unlock_bh(&cmd->lock);
		ret = ih_send_scsi_rsp(conn, cmd, cmd->dir == DMA_TO_DEVICE ? r2ts : 0);
		break;
	}
	case IH_TX_TMR_RSP:
		ret = ih_send_tmr_rsp(conn, cmd);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	/* Response sent (or failed): the fabric's acknowledgement reference goes. */
	target_put_sess_cmd(&cmd->se_cmd);
	return ret;
}

static struct ih_tx_item *ih_tx_pop(struct ih_conn *conn)
{
	struct ih_tx_item *item = NULL;

	spin_lock_bh(&conn->tx_lock);
	if (!list_empty(&conn->tx_queue) && READ_ONCE(conn->first_pdu_seen)) {
		item = list_first_entry(&conn->tx_queue, struct ih_tx_item, node);
		list_del(&item->node);
	}
	spin_unlock_bh(&conn->tx_lock);
	return item;
}

int ih_tx_thread(void *arg)
{
	struct ih_conn *conn = arg;
	struct ih_tx_item *item;
	bool failed = false;

	while (!kthread_should_stop()) {
		/*
		 * Nothing leaves before the initiator's first FFP PDU: the daemon
		 * sends the final Login Response after the HANDOFF reply, and an
		 * early NOP-In or Async Message would overtake it.
		 */
		wait_event_interruptible(conn->tx_wait, kthread_should_stop() ||
					 (READ_ONCE(conn->first_pdu_seen) &&
					  !list_empty(&conn->tx_queue)));
		while (!kthread_should_stop() && (item = ih_tx_pop(conn))) {
			if (failed || atomic_read(&conn->closing)) {
				ih_tx_discard(conn, item);
				continue;
			}
			if (ih_tx_one(conn, item)) {
				failed = true;
				ih_conn_close(conn, ISCSI_HANDOFF_REASON_PEER_CLOSED);
			}
		}
	}

	/* Stopped: close_work set tx_stop, so nothing can be added any more. */
	spin_lock_bh(&conn->tx_lock);
	conn->tx_stop = true;
	spin_unlock_bh(&conn->tx_lock);
	for (;;) {
		spin_lock_bh(&conn->tx_lock);
		item = list_first_entry_or_null(&conn->tx_queue, struct ih_tx_item, node);
		if (item)
			list_del(&item->node);
		spin_unlock_bh(&conn->tx_lock);
		if (!item)
			break;
		ih_tx_discard(conn, item);
	}
	return 0;
}
