// SPDX-License-Identifier: GPL-2.0
/*
 * text.c - Text Requests in the Full Feature Phase (RFC 7143 s.11.10/11.11).
 *
 * SendTargets is answered from the text iscsi-targetd stored for the
 * session's target and portal group with SET_DISCOVERY_TEXT. In a Normal
 * session only the session's own target may be reported (Appendix C):
 * "SendTargets=" (empty) and "SendTargets=<this target>" get the stored
 * text, another name gets nothing, and "All" (Discovery sessions only) is
 * refused with a Reject. Every other key is answered NotUnderstood (s.6.1):
 * nothing else is renegotiated in the Full Feature Phase by this target.
 *
 * An answer longer than the initiator's MaxRecvDataSegmentLength is sent in
 * pieces: each but the last has C=1 and a valid Target Transfer Tag, and the
 * initiator fetches the next with an empty Text Request carrying that TTT
 * (s.11.10.2, s.11.11.4). A new request (TTT 0xffffffff) drops what was left.
 *
 * Requests spanning several PDUs (C=1 from the initiator) are not supported
 * and are rejected: no key this target answers needs that much text.
 *
 * The stored text may name a portal as "TargetAddress=*:port,tpgt": the "*"
 * stands for a wildcard portal and is replaced by the address this
 * connection reached (as the daemon does in its own Discovery sessions).
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "ih.h"

#define IH_TEXT_ADDR_MAX	50	/* an IPv6 address (INET6_ADDRSTRLEN) in brackets */

struct ih_text_buf {
	u8	*p;
	u32	len;
	u32	cap;
	bool	overflow;
};

static void ih_text_put(struct ih_text_buf *b, const void *src, u32 n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static int ih_local_address(struct ih_conn *conn, char *out, size_t size)
{
	if (conn->local.ss_family == AF_INET)
		return scnprintf(out, size, "%pI4",
				 &((struct sockaddr_in *)&conn->local)->sin_addr);
	if (conn->local.ss_family == AF_INET6)
		return scnprintf(out, size, "[%pI6c]",
				 &((struct sockaddr_in6 *)&conn->local)->sin6_addr);
	return 0;
}

/* Copy the stored SendTargets text, replacing a wildcard portal address. */
static void ih_text_send_targets(struct ih_conn *conn, struct ih_text_buf *b,
				 const u8 *text, u32 len)
{
	static const char wild[] = "TargetAddress=*";
	char addr[IH_TEXT_ADDR_MAX + 1];
	int alen = ih_local_address(conn, addr, sizeof(addr));
	u32 pos = 0;

	while (pos < len) {
		const u8 *end = memchr(text + pos, '\0', len - pos);
		u32 n = end ? end - (text + pos) + 1 : len - pos;

		if (n > sizeof(wild) - 1 && !memcmp(text + pos, wild, sizeof(wild) - 1)) {
			if (!alen)
				goto next;	/* no address to give: leave the portal out */
			ih_text_put(b, wild, sizeof(wild) - 2);
			ih_text_put(b, addr, alen);
			ih_text_put(b, text + pos + sizeof(wild) - 1, n - (sizeof(wild) - 1));
		} else {
			ih_text_put(b, text + pos, n);
		}
next:
		pos += n;
	}
	if (len && text[len - 1] != '\0')
		ih_text_put(b, "", 1);
}

/* Build the answer to one request; 0, or a Reject reason. */
static int ih_text_answer(struct ih_conn *conn, const u8 *data, u32 dlen,
			  struct ih_text_buf *b)
{
	struct ih_sess *sess = conn->sess;
	u32 pos = 0;

	if (dlen && data[dlen - 1] != '\0')
		return ISCSI_REASON_PROTOCOL_ERROR;	/* every pair ends in NUL (s.6.1) */
	while (pos < dlen) {
		const char *pair = (const char *)data + pos;
		u32 n = strlen(pair);
		const char *eq = memchr(pair, '=', n);
		u32 klen;

		pos += n + 1;
		if (!n)
			continue;
		if (!eq || eq == pair)
			return ISCSI_REASON_PROTOCOL_ERROR;
		klen = eq - pair;
		if (klen == strlen("SendTargets") && !memcmp(pair, "SendTargets", klen)) {
			const char *value = eq + 1;

			if (!strcmp(value, "All"))
				return ISCSI_REASON_PROTOCOL_ERROR;	/* Discovery only */
			if (*value && strcmp(value, sess->target))
				continue;	/* another target: nothing to report */
			mutex_lock(&ih_lock);
			if (sess->tpg && sess->tpg->discovery_text)
				ih_text_send_targets(conn, b, sess->tpg->discovery_text,
						     sess->tpg->discovery_len);
			mutex_unlock(&ih_lock);
		} else {
			ih_text_put(b, pair, klen);
			ih_text_put(b, "=NotUnderstood", strlen("=NotUnderstood") + 1);
		}
	}
	return b->overflow ? ISCSI_REASON_CMD_NOT_SUPPORTED : 0;
}

static u32 ih_text_ttt(struct ih_conn *conn)
{
	u32 ttt;

	do {
		ttt = atomic_inc_return(&conn->next_ttt);
	} while (ttt == ISCSI_RESERVED_TAG);
	return ttt;
}

/* Send the next piece of conn->text_rsp; frees it after the last one. */
static int ih_text_send_piece(struct ih_conn *conn)
{
	u32 left = conn->text_len - conn->text_off;
	u32 n = min(left, conn->sess->params.max_xmit_dsl);
	bool last = n == left;
	struct iscsi_text_rsp *h;
	struct ih_raw *raw = ih_raw_alloc(n, GFP_KERNEL);

	if (!raw)
		return -ENOMEM;
	h = (struct iscsi_text_rsp *)raw->bhs;
	h->opcode = ISCSI_OP_TEXT_RSP;
	h->flags = last ? ISCSI_FLAG_CMD_FINAL : ISCSI_FLAG_TEXT_CONTINUE;
	h->itt = cpu_to_be32(conn->text_itt);
	h->ttt = cpu_to_be32(last ? ISCSI_RESERVED_TAG : conn->text_ttt);
	ih_set_dlength(raw->bhs, n);
	if (n)
		memcpy(raw->data, conn->text_rsp + conn->text_off, n);
	raw->advance_statsn = true;
	conn->text_off += n;
	if (last)
		ih_text_reset(conn);
	ih_tx_queue_raw(conn, raw);
	return 0;
}

void ih_text_reset(struct ih_conn *conn)
{
	kfree(conn->text_rsp);
	conn->text_rsp = NULL;
	conn->text_len = 0;
	conn->text_off = 0;
	conn->text_ttt = ISCSI_RESERVED_TAG;
}

/* rx thread: a whole Text Request, data received and CmdSN accepted. */
int ih_text_request(struct ih_conn *conn, const u8 *bhs, const u8 *data, u32 dlen)
{
	const struct iscsi_text *h = (const struct iscsi_text *)bhs;
	u32 itt = be32_to_cpu((__force __be32)h->itt), ttt = be32_to_cpu(h->ttt);
	struct ih_text_buf b = { };
	u32 stored;
	int reason;

	if (h->flags & ISCSI_FLAG_TEXT_CONTINUE) {
		ih_text_reset(conn);
		ih_send_reject(conn, ISCSI_REASON_CMD_NOT_SUPPORTED, bhs, 0);
		return 0;
	}
	if (ttt != ISCSI_RESERVED_TAG) {
		/* s.11.10.4: the TTT must be the one of our last piece, on the same ITT. */
		if (!conn->text_rsp || ttt != conn->text_ttt || itt != conn->text_itt || dlen) {
			/* RFC 7143 reason 0x09, "Invalid PDU field" (was "bookmark"). */
			ih_send_reject(conn, ISCSI_REASON_BOOKMARK_INVALID, bhs, 0);
			return 0;
		}
		conn->text_ttt = ih_text_ttt(conn);
		return ih_text_send_piece(conn);
	}

	/* A new request ends any earlier exchange (s.11.10.4). */
	ih_text_reset(conn);
	mutex_lock(&ih_lock);
	stored = conn->sess->tpg ? conn->sess->tpg->discovery_len : 0;
	mutex_unlock(&ih_lock);
	/* Room for the stored text (addresses expanded) and NotUnderstood answers. */
	b.cap = stored + stored / 4 * IH_TEXT_ADDR_MAX + 8 * dlen + 64;
	b.p = kmalloc(b.cap, GFP_KERNEL);
	if (!b.p)
		return -ENOMEM;
	reason = ih_text_answer(conn, data, dlen, &b);
	if (reason) {
		kfree(b.p);
		ih_send_reject(conn, reason, bhs, 0);
		return 0;
	}
	conn->text_rsp = b.p;
	conn->text_len = b.len;
	conn->text_off = 0;
	conn->text_itt = itt;
	conn->text_ttt = ih_text_ttt(conn);
	return ih_text_send_piece(conn);
}
