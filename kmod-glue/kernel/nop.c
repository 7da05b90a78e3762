// SPDX-License-Identifier: GPL-2.0
/*
 * nop.c - NOP-In pings on an idle connection (RFC 7143 s.11.18, s.11.19).
 *
 * When nothing was received on a connection for the TPG's nopin_interval
 * seconds, the target sends a NOP-In with ITT 0xffffffff and a valid Target
 * Transfer Tag; the initiator must answer with a NOP-Out carrying that TTT.
 * If no answer came within nopin_timeout seconds the initiator is taken for
 * dead and the connection is closed (CONN_DOWN, reason NOP_TIMEOUT). Only the
 * echo of the ping's TTT answers it: other traffic resets the idle clock but
 * does not answer a ping that is already out.
 *
 * One delayed work per connection computes its next deadline; both values
 * are read from the TPG each time so that a change applies to live
 * connections. The NOP-In goes through the transmit queue, which holds every
 * PDU until the initiator has sent its first one (the daemon's final Login
 * Response must go first), so a peer that never says anything after login is
 * dropped after interval + timeout without a ping on the wire.
 */
#include <linux/jiffies.h>
#include <linux/workqueue.h>

#include "ih.h"

static void ih_nop_send(struct ih_conn *conn)
{
	struct ih_raw *raw = ih_raw_alloc(0, GFP_KERNEL);
	struct iscsi_nopin *h;
	u32 ttt;

	if (!raw)
		return;		/* tried again at the next tick */
	do {
		ttt = atomic_inc_return(&conn->next_ttt);
	} while (ttt == ISCSI_RESERVED_TAG);
	h = (struct iscsi_nopin *)raw->bhs;
	h->opcode = ISCSI_OP_NOOP_IN;
	h->flags = ISCSI_FLAG_CMD_FINAL;
	h->itt = RESERVED_ITT;
	h->ttt = cpu_to_be32(ttt);
	/* s.11.19: with ITT 0xffffffff StatSN is the next one but does not advance. */
	raw->advance_statsn = false;

	spin_lock_bh(&conn->nop_lock);
	conn->nop_outstanding = true;
	conn->nop_ttt = ttt;
	conn->nop_sent = jiffies;
	spin_unlock_bh(&conn->nop_lock);
	ih_tx_queue_raw(conn, raw);
}

static void ih_nop_work(struct work_struct *work)
{
	struct ih_conn *conn = container_of(to_delayed_work(work), struct ih_conn, nop_work);
	struct ih_tpg *tpg = conn->sess->tpg;
	u32 interval = READ_ONCE(tpg->nopin_interval);
	u32 timeout = READ_ONCE(tpg->nopin_timeout);
	unsigned long now = jiffies, next, due;
	bool outstanding;

	if (atomic_read(&conn->closing))
		return;

	spin_lock_bh(&conn->nop_lock);
	outstanding = conn->nop_outstanding;
	due = conn->nop_sent + timeout * HZ;
	spin_unlock_bh(&conn->nop_lock);

	if (outstanding) {
		if (timeout && time_after_eq(now, due)) {
			atomic64_inc(&conn->stats.errors);
			ih_conn_log(info, conn, "no answer to a NOP-In ping within %u s\n", timeout);
			ih_conn_close(conn, ISCSI_HANDOFF_REASON_NOP_TIMEOUT);
			return;
		}
		next = timeout ? due : now + HZ;
	} else if (interval) {
		due = READ_ONCE(conn->last_rx) + interval * HZ;
		if (time_after_eq(now, due)) {
			ih_nop_send(conn);
			next = now + (timeout ? timeout * HZ : HZ);
		} else {
			next = due;
		}
	} else {
		next = now + HZ;	/* pings off: look again for a changed setting */
	}
	/* Never later than a second: the settings may change under us. */
	if (time_after(next, now + HZ))
		next = now + HZ;
	schedule_delayed_work(&conn->nop_work, max_t(long, (long)(next - now), 1));
}

void ih_nop_init(struct ih_conn *conn)
{
	INIT_DELAYED_WORK(&conn->nop_work, ih_nop_work);
	spin_lock_init(&conn->nop_lock);
	conn->last_rx = jiffies;
}

void ih_nop_start(struct ih_conn *conn)
{
	WRITE_ONCE(conn->last_rx, jiffies);
	schedule_delayed_work(&conn->nop_work, HZ);
}

/* close_work: before the connection goes away. The work re-arms itself; cancel copes. */
void ih_nop_stop(struct ih_conn *conn)
{
	cancel_delayed_work_sync(&conn->nop_work);
}

void ih_nop_rx(struct ih_conn *conn)
{
	WRITE_ONCE(conn->last_rx, jiffies);
}

/* A NOP-Out with TTT ttt arrived: true if it answers our outstanding ping. */
bool ih_nop_answered(struct ih_conn *conn, u32 ttt)
{
	bool ours;

	spin_lock_bh(&conn->nop_lock);
	ours = conn->nop_outstanding && conn->nop_ttt == ttt;
	if (ours)
		conn->nop_outstanding = false;
	spin_unlock_bh(&conn->nop_lock);
	return ours;
}
