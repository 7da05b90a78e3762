// SPDX-License-Identifier: GPL-2.0
/*
 * session.c - sessions and connections: HANDOFF, lookup, reference counts,
 * the CmdSN window and teardown.
 *
 * Teardown order for a connection (close_work, process context):
 *   shut the socket down so rx/tx unblock -> stop both threads ->
 *   give target core back every command it holds for this connection ->
 *   wait until target core released them all -> unlink -> CONN_DOWN event ->
 *   if it was the last connection: deregister the se_session, SESSION_DOWN.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <linux/in.h>
#include <target/target_core_base.h>
#include <target/target_core_fabric.h>
#include <net/netlink.h>

#include "ih.h"

LIST_HEAD(ih_sess_list);
static atomic64_t ih_next_handle = ATOMIC64_INIT(0);
static unsigned int ih_nsessions;	/* under ih_lock */

static u64 ih_new_handle(void)
{
	/* Opaque, non-zero, never reused while the module is loaded. */
	return atomic64_inc_return(&ih_next_handle);
}

/* ------------------------------------------------------------ references */

static void ih_sess_release(struct kref *ref)
{
	struct ih_sess *sess = container_of(ref, struct ih_sess, ref);

	kfree(sess);
	module_put(THIS_MODULE);
}

void ih_sess_get(struct ih_sess *sess)
{
	kref_get(&sess->ref);
}

void ih_sess_put(struct ih_sess *sess)
{
	kref_put(&sess->ref, ih_sess_release);
}

static void ih_conn_release(struct kref *ref)
{
	struct ih_conn *conn = container_of(ref, struct ih_conn, ref);

	if (conn->file)
		fput(conn->file);
	kvfree(conn->rx_buf);
	kfree(conn->text_rsp);
	xa_destroy(&conn->cmds);
	ih_sess_put(conn->sess);
	kfree(conn);
}

void ih_conn_get(struct ih_conn *conn)
{
	kref_get(&conn->ref);
}

void ih_conn_put(struct ih_conn *conn)
{
	kref_put(&conn->ref, ih_conn_release);
}

struct ih_sess *ih_sess_find(u64 handle)
{
	struct ih_sess *sess;

	lockdep_assert_held(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node)
		if (sess->handle == handle)
			return sess;
	return NULL;
}

/* ------------------------------------------------------------ CmdSN window */

u32 ih_sess_max_cmdsn(struct ih_sess *sess)
{
	u32 v;

	spin_lock_bh(&sess->sn_lock);
	v = sess->max_cmdsn;
	spin_unlock_bh(&sess->sn_lock);
	return v;
}

u32 ih_sess_exp_cmdsn(struct ih_sess *sess)
{
	u32 v;

	spin_lock_bh(&sess->sn_lock);
	v = sess->exp_cmdsn;
	spin_unlock_bh(&sess->sn_lock);
	return v;
}

/*
 * A non-immediate command finished: its slot in the command window opens
 * again, so MaxCmdSN moves on (RFC 7143 s.4.2.2.1). The window therefore is
 * the session's queue depth of commands in the target at any time.
 */
void ih_sess_cmd_done(struct ih_sess *sess)
{
	spin_lock_bh(&sess->sn_lock);
	sess->max_cmdsn++;
	spin_unlock_bh(&sess->sn_lock);
}

/* ---------------------------------------------------------------- teardown */

static void ih_sess_teardown(struct ih_sess *sess)
{
	/* The last connection is gone: nothing references se_sess any more. */
	if (cancel_delayed_work(&sess->logout_work))
		ih_sess_put(sess);
	ih_event_session_down(sess);
	if (sess->se_sess) {
		target_stop_session(sess->se_sess);
		target_wait_for_sess_cmds(sess->se_sess);
		sess->se_sess->fabric_sess_ptr = NULL;
		target_remove_session(sess->se_sess);
		sess->se_sess = NULL;
	}
	pr_info("iscsi_handoff: session %s tsih %u closed (reason %u)\n",
		sess->initiator, sess->tsih, sess->down_reason);
	ih_sess_put(sess);	/* the list's reference */
}

static void ih_conn_close_work(struct work_struct *work)
{
	struct ih_conn *conn = container_of(work, struct ih_conn, close_work);
	struct ih_sess *sess = conn->sess;
	bool last = false;

	atomic_set(&conn->state, IH_CONN_CLOSING);
	ih_nop_stop(conn);
	kernel_sock_shutdown(conn->sock, SHUT_RDWR);

	if (conn->rx_thread) {
		kthread_stop(conn->rx_thread);
		put_task_struct(conn->rx_thread);
		conn->rx_thread = NULL;
	}
	spin_lock_bh(&conn->tx_lock);
	conn->tx_stop = true;
	spin_unlock_bh(&conn->tx_lock);
	if (conn->tx_thread) {
		kthread_stop(conn->tx_thread);
		put_task_struct(conn->tx_thread);
		conn->tx_thread = NULL;
	}

	/* Every command of this connection goes back to target core or is freed. */
	ih_conn_release_cmds(conn);

	mutex_lock(&ih_lock);
	list_del_init(&conn->sess_node);
	sess->nconns--;
	if (sess->nconns == 0) {
		last = true;
		list_del_init(&sess->node);
		ih_nsessions--;
		sess->state = ISCSI_HANDOFF_SESSION_STATE_CLOSING;
		if (!sess->down_reason)
			sess->down_reason = conn->down_reason;
	}
	mutex_unlock(&ih_lock);

	ih_event_conn_down(conn);
	ih_conn_log(info, conn, "connection closed (reason %u)\n", conn->down_reason);
	if (last)
		ih_sess_teardown(sess);
	ih_conn_put(conn);	/* the session's reference */
}

/* Idempotent; any context that may sleep or not. */
void ih_conn_close(struct ih_conn *conn, u32 reason)
{
	if (atomic_xchg(&conn->closing, 1))
		return;
	conn->down_reason = reason;
	/* Unblock rx/tx right away; the work does the rest. */
	atomic_set(&conn->state, IH_CONN_CLOSING);
	queue_work(ih_wq, &conn->close_work);
}

/* Starts closing every connection of sess; with ih_lock held. */
static void ih_sess_close_locked(struct ih_sess *sess, u32 reason)
{
	struct ih_conn *conn;

	lockdep_assert_held(&ih_lock);
	if (!sess->down_reason)
		sess->down_reason = reason;
	sess->state = ISCSI_HANDOFF_SESSION_STATE_CLOSING;
	list_for_each_entry(conn, &sess->conns, sess_node)
		ih_conn_close(conn, reason);
}

void ih_sess_close(struct ih_sess *sess, u32 reason)
{
	mutex_lock(&ih_lock);
	ih_sess_close_locked(sess, reason);
	mutex_unlock(&ih_lock);
}

void ih_close_tpg_sessions(struct ih_tpg *tpg, u32 reason)
{
	struct ih_sess *sess;

	mutex_lock(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node)
		if (sess->tpg == tpg)
			ih_sess_close_locked(sess, reason);
	mutex_unlock(&ih_lock);
	/* close_work runs on ih_wq and is synchronous to the end. */
	flush_workqueue(ih_wq);
}

void ih_close_all_sessions(u32 reason)
{
	struct ih_sess *sess;

	mutex_lock(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node)
		ih_sess_close_locked(sess, reason);
	mutex_unlock(&ih_lock);
	flush_workqueue(ih_wq);
}

/*
 * RFC 7143 s.11.5.1: after a TARGET COLD RESET the target closes every TCP
 * connection of every initiator of that target. Called from a tx thread once
 * the TMF Response left, so it only starts the closes (no flush).
 */
void ih_close_target_sessions(struct ih_tiqn *tiqn, u32 reason)
{
	struct ih_sess *sess;

	mutex_lock(&ih_lock);
	list_for_each_entry(sess, &ih_sess_list, node)
		if (sess->tpg && sess->tpg->tiqn == tiqn)
			ih_sess_close_locked(sess, reason);
	mutex_unlock(&ih_lock);
}

/* ------------------------------------------------------------------ logout */

static void ih_logout_timeout(struct work_struct *work)
{
	struct ih_sess *sess = container_of(to_delayed_work(work), struct ih_sess,
					    logout_work);

	/* RFC 7143 s.11.9.1, AsyncEvent 1: the initiator did not log out in time. */
	ih_sess_close(sess, ISCSI_HANDOFF_REASON_LOGOUT_TIMEOUT);
	ih_sess_put(sess);
}

void ih_sess_request_logout(struct ih_sess *sess, u32 deadline_s)
{
	struct ih_conn *conn;

	lockdep_assert_held(&ih_lock);
	sess->state = ISCSI_HANDOFF_SESSION_STATE_LOGOUT_REQUESTED;
	list_for_each_entry(conn, &sess->conns, sess_node)
		ih_send_async_logout(conn, deadline_s);
	ih_sess_get(sess);
	if (!queue_delayed_work(ih_wq, &sess->logout_work, deadline_s * HZ))
		ih_sess_put(sess);	/* already pending */
}

/* ----------------------------------------------------------------- handoff */

static int ih_check_socket(struct socket *sock, struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;

	if (!sk || sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)) {
		NL_SET_ERR_MSG_MOD(extack, "fd is not a TCP stream socket");
		return -EPROTONOSUPPORT;
	}
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "TCP socket is not connected");
		return -ENOTCONN;
	}
	return 0;
}

static struct ih_conn *ih_conn_alloc(struct ih_sess *sess,
				     const struct ih_handoff_req *req,
				     struct file *file, struct socket *sock)
{
	struct ih_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return NULL;
	/* Whole PDUs of non-SCSI data land here: at most MRDSL + padding + digest. */
	conn->rx_buf = kvmalloc(req->params.max_recv_dsl + 8, GFP_KERNEL);
	if (!conn->rx_buf) {
		kfree(conn);
		return NULL;
	}
	kref_init(&conn->ref);
	INIT_LIST_HEAD(&conn->sess_node);
	conn->handle = ih_new_handle();
	conn->cid = req->cid;
	conn->sock = sock;
	conn->file = file;
	conn->peer = req->peer;
	conn->peer_len = req->peer_len;
	conn->local = req->local;
	conn->local_len = req->local_len;
	spin_lock_init(&conn->tx_lock);
	INIT_LIST_HEAD(&conn->tx_queue);
	init_waitqueue_head(&conn->tx_wait);
	conn->stat_sn = req->statsn;
	conn->exp_statsn = req->exp_statsn;
	atomic_set(&conn->next_ttt, 1);
	xa_init(&conn->cmds);
	atomic_set(&conn->ncmds, 0);
	init_waitqueue_head(&conn->cmds_wq);
	atomic_set(&conn->state, IH_CONN_RUNNING);
	INIT_WORK(&conn->close_work, ih_conn_close_work);
	ih_nop_init(conn);
	return conn;
}

static struct ih_sess *ih_sess_alloc(const struct ih_handoff_req *req,
				     struct ih_tpg *tpg)
{
	struct ih_sess *sess;

	if (!try_module_get(THIS_MODULE))
		return NULL;
	sess = kzalloc(sizeof(*sess), GFP_KERNEL);
	if (!sess) {
		module_put(THIS_MODULE);
		return NULL;
	}
	kref_init(&sess->ref);
	INIT_LIST_HEAD(&sess->node);
	INIT_LIST_HEAD(&sess->conns);
	INIT_LIST_HEAD(&sess->ooo_list);
	spin_lock_init(&sess->sn_lock);
	mutex_init(&sess->cmdsn_mutex);
	INIT_DELAYED_WORK(&sess->logout_work, ih_logout_timeout);
	sess->handle = ih_new_handle();
	sess->tpg = tpg;
	sess->tpgt = tpg->tpgt;
	strscpy(sess->target, tpg->tiqn->name, sizeof(sess->target));
	strscpy(sess->initiator, req->initiator, sizeof(sess->initiator));
	if (req->alias)
		strscpy(sess->alias, req->alias, sizeof(sess->alias));
	if (req->chap_user)
		strscpy(sess->chap_user, req->chap_user, sizeof(sess->chap_user));
	memcpy(sess->isid, req->isid, sizeof(sess->isid));
	sess->tsih = req->tsih;
	sess->params = req->params;
	sess->start_time = ktime_get_real_ns();
	sess->state = ISCSI_HANDOFF_SESSION_STATE_ACTIVE;
	return sess;
}

static int ih_start_threads(struct ih_conn *conn)
{
	struct task_struct *rx, *tx;

	tx = kthread_create(ih_tx_thread, conn, "ih_tx/%u.%u", conn->sess->tsih, conn->cid);
	if (IS_ERR(tx))
		return PTR_ERR(tx);
	rx = kthread_create(ih_rx_thread, conn, "ih_rx/%u.%u", conn->sess->tsih, conn->cid);
	if (IS_ERR(rx)) {
		kthread_stop(tx);
		return PTR_ERR(rx);
	}
	/* Held so that kthread_stop() is valid whenever close_work runs. */
	get_task_struct(tx);
	get_task_struct(rx);
	conn->tx_thread = tx;
	conn->rx_thread = rx;
	return 0;
}

static struct ih_sess *ih_find_tsih(struct ih_tpg *tpg, u16 tsih)
{
	struct ih_sess *sess;

	list_for_each_entry(sess, &ih_sess_list, node)
		if (sess->tpg == tpg && sess->tsih == tsih &&
		    sess->state != ISCSI_HANDOFF_SESSION_STATE_CLOSING)
			return sess;
	return NULL;
}

int ih_handoff(const struct ih_handoff_req *req, struct netlink_ext_ack *extack,
	       u64 *sess_handle, u64 *conn_handle)
{
	struct ih_sess *sess = NULL, *other;
	struct ih_conn *conn = NULL, *old;
	struct ih_tpg *tpg;
	struct socket *sock;
	struct file *file;
	bool new_sess = false;
	u32 depth;
	int ret;

	file = fget(req->fd);
	if (!file) {
		NL_SET_ERR_MSG_MOD(extack, "FD is not an open file descriptor of the sender");
		return -EBADF;
	}
	sock = sock_from_file(file);
	if (!sock) {
		NL_SET_ERR_MSG_MOD(extack, "FD is not a socket");
		ret = -ENOTSOCK;
		goto out_fput;
	}
	ret = ih_check_socket(sock, extack);
	if (ret)
		goto out_fput;

	mutex_lock(&ih_lock);
	if (ih_unloading) {
		NL_SET_ERR_MSG_MOD(extack, "module is unloading");
		ret = -ESHUTDOWN;
		goto out_unlock;
	}
	tpg = ih_tpg_lookup(req->target, req->tpgt);
	if (!tpg) {
		NL_SET_ERR_MSG_MOD(extack, "no such target and portal group in configfs");
		ret = -ENOENT;
		goto out_unlock;
	}
	if (!tpg->se_tpg.enabled) {
		NL_SET_ERR_MSG_MOD(extack, "portal group is not enabled");
		ret = -ENODEV;
		goto out_unlock;
	}

	sess = ih_find_tsih(tpg, req->tsih);
	if (sess) {
		/* A connection joins a live session (RFC 7143 s.4.3.4, MC/S). */
		if (strcmp(sess->initiator, req->initiator) ||
		    memcmp(sess->isid, req->isid, sizeof(sess->isid))) {
			NL_SET_ERR_MSG_MOD(extack, "TSIH names a session of another initiator or ISID");
			ret = -EEXIST;
			goto out_unlock;
		}
		list_for_each_entry(old, &sess->conns, sess_node) {
			if (old->cid == req->cid && !atomic_read(&old->closing)) {
				/* Connection reinstatement (s.6.3.4): the old one goes. */
				ih_conn_close(old, ISCSI_HANDOFF_REASON_REINSTATED);
			}
		}
		if (sess->nconns >= min_t(u32, sess->params.max_connections,
					  IH_MAX_CONNS_PER_SESS)) {
			NL_SET_ERR_MSG_MOD(extack, "session already has MaxConnections connections");
			ret = -EMLINK;
			goto out_unlock;
		}
	} else {
		/* Session reinstatement (s.6.3.5): same initiator and ISID in this TPG. */
		list_for_each_entry(other, &ih_sess_list, node) {
			if (other->tpg == tpg && !strcmp(other->initiator, req->initiator) &&
			    !memcmp(other->isid, req->isid, sizeof(other->isid)) &&
			    other->state != ISCSI_HANDOFF_SESSION_STATE_CLOSING) {
				struct ih_conn *c;

				other->down_reason = ISCSI_HANDOFF_REASON_REINSTATED;
				other->state = ISCSI_HANDOFF_SESSION_STATE_CLOSING;
				list_for_each_entry(c, &other->conns, sess_node)
					ih_conn_close(c, ISCSI_HANDOFF_REASON_REINSTATED);
			}
		}
		if (ih_nsessions >= IH_MAX_SESSIONS) {
			NL_SET_ERR_MSG_MOD(extack, "too many sessions (see GET_LIMITS)");
			ret = -ENOSPC;
			goto out_unlock;
		}
		sess = ih_sess_alloc(req, tpg);
		if (!sess) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		new_sess = true;
		sess->se_sess = target_setup_session(&tpg->se_tpg, 0, 0, TARGET_PROT_NORMAL,
						     req->initiator, sess, NULL);
		if (IS_ERR(sess->se_sess)) {
			ret = PTR_ERR(sess->se_sess);
			sess->se_sess = NULL;
			if (ret == -EACCES)
				NL_SET_ERR_MSG_MOD(extack,
						   "no node ACL for this initiator and demo mode (generate_node_acls) is off");
			else
				NL_SET_ERR_MSG_MOD(extack, "target core refused the session");
			goto out_free_sess;
		}
		depth = sess->se_sess->se_node_acl->queue_depth;
		depth = clamp_t(u32, depth, 1, IH_MAX_QUEUE_DEPTH);
		sess->queue_depth = depth;
		sess->exp_cmdsn = req->cmdsn;
		sess->max_cmdsn = req->cmdsn + depth - 1;
	}

	conn = ih_conn_alloc(sess, req, file, sock);
	if (!conn) {
		ret = -ENOMEM;
		goto out_free_sess;
	}
	ih_sess_get(sess);
	conn->sess = sess;
	ret = ih_start_threads(conn);
	if (ret) {
		conn->file = NULL;	/* still ours, dropped below */
		ih_conn_put(conn);
		NL_SET_ERR_MSG_MOD(extack, "could not start connection threads");
		goto out_free_sess;
	}

	/* Blocking I/O from the kernel whatever the daemon set on its side. */
	lock_sock(sock->sk);
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	release_sock(sock->sk);

	list_add_tail(&conn->sess_node, &sess->conns);
	sess->nconns++;
	if (new_sess) {
		list_add_tail(&sess->node, &ih_sess_list);
		ih_nsessions++;
	}
	*sess_handle = sess->handle;
	*conn_handle = conn->handle;
	wake_up_process(conn->tx_thread);
	wake_up_process(conn->rx_thread);
	ih_nop_start(conn);
	mutex_unlock(&ih_lock);

	ih_conn_log(info, conn, "handed off (%s session, depth %u, CmdSN %u, StatSN %u)\n",
		    new_sess ? "new" : "joined", sess->queue_depth, req->cmdsn, req->statsn);
	return 0;

out_free_sess:
	if (new_sess) {
		if (sess->se_sess)
			target_remove_session(sess->se_sess);
		ih_sess_put(sess);
	}
out_unlock:
	mutex_unlock(&ih_lock);
out_fput:
	fput(file);
	return ret;
}
