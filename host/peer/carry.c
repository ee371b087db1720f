// SPDX-License-Identifier: MIT
/*
 * carry.c - frames held for a peer whose vdev moves to another process
 * (the peer's MOVING message, then its BYE).  The records it had not
 * consumed from our rings are read back through the consumer's checks
 * (peer_ring_prod_unconsumed: the departing process mapped those rings
 * writable), kept in private memory, and written into the new link's
 * rings, ring k to ring k, before anything newer: the peer's guest gets
 * every frame, in order, once.  Held at most the peer's hold_ms; a
 * different peer, or none in time, and they are dropped (logged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "host/peer/link_priv.h"

struct carry_rec {
	uint32_t len;
	uint16_t ring;
	uint16_t reserved;
};
static_assert(sizeof(struct carry_rec) == 8, "carry record head");

#define CARRY_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

struct take_ctx {
	struct peer_carry *cy;
	uint16_t ring;
	bool nomem;
};

static void take_one(void *arg, const uint8_t *rec, uint32_t len)
{
	struct take_ctx *t = arg;
	struct peer_carry *cy = t->cy;
	size_t need = sizeof(struct carry_rec) + CARRY_ALIGN(len);
	struct carry_rec h = { .len = len, .ring = t->ring };

	if (t->nomem)
		return;
	if (cy->len + need > cy->cap) {
		size_t cap = cy->cap ? cy->cap : 64 * 1024;
		uint8_t *nb;

		while (cap < cy->len + need)
			cap *= 2;
		nb = realloc(cy->buf, cap);
		if (!nb) {
			t->nomem = true;
			return;
		}
		cy->buf = nb;
		cy->cap = cap;
	}
	memcpy(cy->buf + cy->len, &h, sizeof(h));
	memcpy(cy->buf + cy->len + sizeof(h), rec, len);
	cy->len += need;
	cy->records++;
}

void peer_carry_drop(struct peer_link *l, const char *why)
{
	struct peer_carry *cy = &l->carry;

	ev_timer_cancel(l->ev, cy->timer);
	cy->timer = -1;
	if (cy->records) {
		log_warn("%s/%s: %u frames held for %s are lost: %s", l->system, l->name,
			 cy->records, cy->peer_label, why);
		l->stats.moved_lost += cy->records;
	}
	free(cy->buf);
	cy->buf = NULL;
	cy->len = cy->cap = 0;
	cy->records = 0;
	cy->peer_label[0] = '\0';
}

static void carry_expired(void *arg)
{
	struct peer_link *l = arg;

	l->carry.timer = -1;
	peer_link_enter(l);
	peer_carry_drop(l, "its new process did not link in time");
	peer_link_leave(l);
}

void peer_carry_take(struct peer_link *l, struct peer_conn *c)
{
	struct peer_carry *cy = &l->carry;
	long id;

	peer_carry_drop(l, "a newer move replaces them");
	for (unsigned k = 0; k < c->n_used; k++) {
		struct take_ctx t = { .cy = cy, .ring = (uint16_t)k };
		int n = peer_ring_prod_unconsumed(&c->rp[k].tx, true, take_one, &t);

		if (n < 0 || t.nomem)
			log_warn("%s/%s: ring %u to %s: %s; what follows in it is lost", l->system,
				 l->name, k, c->peer_label,
				 t.nomem ? "no memory to hold its frames" : "a record fails its checks");
	}
	snprintf(cy->peer_label, sizeof(cy->peer_label), "%s", c->peer_label);
	id = ev_timer(l->ev, c->peer_moving_ms, carry_expired, l);
	cy->timer = id > 0 ? id : -1;
	log_info("%s/%s: %s moves to another process: %u frames it had not taken are held for it (up to %u ms)",
		 l->system, l->name, c->peer_label, cy->records, c->peer_moving_ms);
}

void peer_carry_give(struct peer_link *l, struct peer_conn *c)
{
	struct peer_carry *cy = &l->carry;
	unsigned given = 0, lost = 0;
	unsigned committed = 0;	/* rings written: bits */

	if (!cy->records && !cy->peer_label[0])
		return;
	if (strcmp(cy->peer_label, c->peer_label) != 0) {
		peer_carry_drop(l, "another peer linked");
		return;
	}
	for (size_t off = 0; off < cy->len;) {
		struct carry_rec h;
		unsigned k;
		uint8_t *rec;

		memcpy(&h, cy->buf + off, sizeof(h));
		k = h.ring < c->n_used ? h.ring : h.ring % c->n_used;
		rec = peer_ring_reserve(&c->rp[k].tx, h.len);
		if (rec) {
			memcpy(rec, cy->buf + off + sizeof(h), h.len);
			peer_ring_commit(&c->rp[k].tx, h.len);
			committed |= 1u << k;
			given++;
		} else {
			lost++;
		}
		off += sizeof(h) + CARRY_ALIGN(h.len);
	}
	for (unsigned k = 0; k < c->n_used; k++)
		if (committed & (1u << k))
			peer_link_tx_publish(l, k);
	log_info("%s/%s: %u frames held for %s handed to its new process%s", l->system, l->name,
		 given, c->peer_label, lost ? "; some did not fit" : "");
	l->stats.moved_held += given;
	cy->records = lost;
	peer_carry_drop(l, "they did not fit the new link's rings");
}
