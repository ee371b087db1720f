// SPDX-License-Identifier: MIT
/*
 * peer_ring.c - the shared-memory frame ring of a peer link; layout and
 * rules in peer_ring.h.
 */
#include "common/peer_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/barrier.h"
#include "common/net_hdr.h"
#include "common/sigbus_guard.h"
#include "common/log.h"

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

static uint32_t desc_area_size(uint32_t desc_count)
{
	return align_up(desc_count * (uint32_t)sizeof(struct peer_ring_desc),
			PEER_RING_HDR_SIZE);
}

int peer_ring_geom_check(uint32_t desc_count, uint32_t data_size, char *why,
			 size_t whylen)
{
	const char *msg = NULL;

	if (!is_pow2(desc_count))
		msg = "desc_count is not a power of two";
	else if (desc_count < PEER_RING_MIN_DESC || desc_count > PEER_RING_MAX_DESC)
		msg = "desc_count out of range";
	else if (data_size < PEER_RING_MIN_DATA || data_size > PEER_RING_MAX_DATA)
		msg = "data_size out of range";
	else if (data_size % PEER_RING_DATA_GRAIN)
		msg = "data_size is not a multiple of 4096";
	if (!msg)
		return 0;
	if (why && whylen)
		snprintf(why, whylen, "%s (desc_count %u, data_size %u)", msg,
			 desc_count, data_size);
	return -EINVAL;
}

uint64_t peer_ring_file_size(uint32_t desc_count, uint32_t data_size)
{
	return (uint64_t)PEER_RING_HDR_SIZE + desc_area_size(desc_count) +
	       data_size;
}

static void fill_geom(struct peer_ring_geom *g, uint32_t desc_count,
		      uint32_t data_size, uint32_t start_idx)
{
	memset(g, 0, sizeof(*g));
	g->magic = PEER_RING_MAGIC;
	g->version = PEER_RING_VERSION;
	g->desc_count = desc_count;
	g->data_size = data_size;
	g->desc_off = PEER_RING_HDR_SIZE;
	g->data_off = PEER_RING_HDR_SIZE + desc_area_size(desc_count);
	g->file_size = peer_ring_file_size(desc_count, data_size);
	g->start_idx = start_idx;
}

/* Latches a ring broken: every later call fails fast.  The reason is kept
 * for whoever drops the link, and logged (rate-limited: the other side
 * can break rings at will). */
static void __attribute__((format(printf, 3, 4)))
set_broken(bool *broken, char reason[PEER_RING_REASON_LEN], const char *fmt, ...)
{
	va_list ap;

	if (*broken)
		return;
	*broken = true;
	va_start(ap, fmt);
	vsnprintf(reason, PEER_RING_REASON_LEN, fmt, ap);
	va_end(ap);
	log_rl(LOG_WARN, "peer ring broken: %s", reason);
}

/* ---- producer ----------------------------------------------------------- */

int peer_ring_create(struct peer_ring_prod *p, const char *shm_name,
		     uint32_t desc_count, uint32_t data_size, int *fd_out)
{
	return peer_ring_create_at(p, shm_name, desc_count, data_size, 0, fd_out);
}

int peer_ring_create_at(struct peer_ring_prod *p, const char *shm_name,
			uint32_t desc_count, uint32_t data_size,
			uint32_t start_idx, int *fd_out)
{
	struct peer_ring_geom g;
	size_t size;
	void *map;
	int fd, ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (!shm_name || shm_name[0] != '/' || strchr(shm_name + 1, '/') ||
	    strlen(shm_name) >= sizeof(p->shm_name))
		return -EINVAL;
	ret = peer_ring_geom_check(desc_count, data_size, p->reason,
				   sizeof(p->reason));
	if (ret)
		return ret;
	fill_geom(&g, desc_count, data_size, start_idx);
	size = (size_t)g.file_size;

	p->shadow = calloc(desc_count, sizeof(*p->shadow));
	if (!p->shadow)
		return -ENOMEM;
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* shm_open honours the umask, which could only make it stricter;
	 * fchmod makes the 0600 independent of it anyway. */
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)size) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto err_unlink;
	}

	p->hdr = map;
	p->map_size = size;
	p->guard = sigbus_guard_add(map, size, -1);
	p->desc = (struct peer_ring_desc *)((uint8_t *)map + g.desc_off);
	p->data = (uint8_t *)map + g.data_off;
	p->desc_count = desc_count;
	p->mask = desc_count - 1;
	p->data_size = data_size;
	p->prod = p->prod_pub = p->cons = start_idx;
	p->fd = fd;
	snprintf(p->shm_name, sizeof(p->shm_name), "%s", shm_name);

	/* The file is fresh (O_EXCL) and nobody has its fd yet, so plain
	 * stores suffice; handing the fd over is the publication. */
	p->hdr->geom = g;
	p->hdr->prod = start_idx;
	p->hdr->cons = start_idx;
	/* The consumer starts out asleep: its first records need a doorbell. */
	p->hdr->cons_need_wakeup = 1;
	if (fd_out)
		*fd_out = fd;
	return 0;

err_unlink:
	shm_unlink(shm_name);
	close(fd);
err_free:
	free(p->shadow);
	p->shadow = NULL;
	return ret;
}

void peer_ring_prod_destroy(struct peer_ring_prod *p, bool unlink)
{
	sigbus_guard_del(&p->guard);
	if (p->hdr)
		munmap(p->hdr, p->map_size);
	p->hdr = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (unlink && p->shm_name[0])
		shm_unlink(p->shm_name);
	p->shm_name[0] = '\0';
	free(p->shadow);
	p->shadow = NULL;
}

/* Rereads the consumer's index.  It may only move forward and never past
 * what we published; then the records it passed give their space back,
 * by the totals in our shadow (nothing else the consumer wrote is used). */
static void prod_refresh_cons(struct peer_ring_prod *p)
{
	/* acquire: the consumer's reads of the records it releases happen
	 * before we overwrite them. */
	uint32_t c = load_acquire(&p->hdr->cons);
	uint32_t advance = c - p->cons;

	if (peer_ring_prod_check_truncated(p) || advance == 0)
		return;
	if ((int32_t)advance < 0) {
		set_broken(&p->broken, p->reason,
			   "consumer index moved backwards (%u after %u)", c,
			   p->cons);
		return;
	}
	if (advance > p->prod_pub - p->cons) {
		set_broken(&p->broken, p->reason,
			   "consumer index %u is past the published %u", c,
			   p->prod_pub);
		return;
	}
	/* Record c - 1's slot still holds its total: a slot is reused only
	 * desc_count records after the last one validated here. */
	p->released = p->shadow[(c - 1) & p->mask].charged_end;
	p->cons = c;
}

void *peer_ring_reserve_full(struct peer_ring_prod *p, uint32_t len)
{
	uint32_t off, skip;

	prod_refresh_cons(p);
	if (p->broken || !peer_ring_prod_room(p, len, &off, &skip)) {
		p->stats.full++;
		return NULL;
	}
	return peer_ring_prod_take(p, len, off, skip);
}

unsigned peer_ring_put_burst(struct peer_ring_prod *p, const uint32_t *lens, unsigned n,
			     uint8_t **recs)
{
	struct peer_ring_cursor c = peer_ring_cursor_of(p);
	uint64_t bytes = 0;
	unsigned i;

	assert(!p->reserved);
	if (p->broken)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t len = lens[i], off, skip;

		if (!peer_ring_rec_len_ok(len))
			break;
		if (!peer_ring_cursor_room(p, &c, len, &off, &skip)) {
			/* As peer_ring_reserve_full: look at the consumer's
			 * index again (it gives space back). */
			peer_ring_cursor_store(p, &c);
			prod_refresh_cons(p);
			c = peer_ring_cursor_of(p);
			if (p->broken || !peer_ring_cursor_room(p, &c, len, &off, &skip)) {
				p->stats.full++;
				break;
			}
		}
		recs[i] = p->data + off;
		peer_ring_cursor_queue(p, &c, off, skip, len);
		bytes += len;
	}
	peer_ring_cursor_store(p, &c);
	p->stats.records += i;
	p->stats.bytes += bytes;
	return i;
}

void peer_ring_cancel(struct peer_ring_prod *p)
{
	/* The reservation lives only in private state: forgetting it is
	 * enough, the consumer never saw it. */
	p->reserved = false;
}

bool peer_ring_prod_check_truncated(struct peer_ring_prod *p)
{
	if (!sigbus_guard_hit(p->guard))
		return false;
	set_broken(&p->broken, p->reason, "ring file truncated by the consumer");
	return true;
}

bool peer_ring_publish(struct peer_ring_prod *p)
{
	bool wake;

	if (p->broken || p->prod == p->prod_pub || peer_ring_prod_check_truncated(p))
		return false;
	/* release: descriptors and record bytes are visible before prod. */
	store_release(&p->hdr->prod, p->prod);
	p->prod_pub = p->prod;
	/* store prod -> load flag needs a full barrier; it pairs with the
	 * one in peer_ring_cons_sleep_prepare (flag store -> prod load), so
	 * either we see the flag or the consumer sees our records. */
	smp_mb();
	wake = READ_ONCE(p->hdr->cons_need_wakeup) != 0;
	if (wake)
		p->stats.wakeups_requested++;
	return wake;
}

bool peer_ring_prod_wait_prepare(struct peer_ring_prod *p, uint32_t len)
{
	uint32_t off, skip;

	if (p->broken || peer_ring_prod_check_truncated(p))
		return false;
	WRITE_ONCE(p->hdr->prod_need_wakeup, 1);
	p->waiting = true;
	/* flag store -> cons load; pairs with peer_ring_cons_publish. */
	smp_mb();
	prod_refresh_cons(p);
	if (p->broken)
		return false;
	if (peer_ring_prod_room(p, len, &off, &skip)) {
		peer_ring_prod_awake(p);
		return false;
	}
	return true;
}

void peer_ring_prod_awake(struct peer_ring_prod *p)
{
	if (!p->waiting)
		return;
	p->waiting = false;
	WRITE_ONCE(p->hdr->prod_need_wakeup, 0);
}

uint32_t peer_ring_free_slots(struct peer_ring_prod *p)
{
	if (p->broken || peer_ring_prod_check_truncated(p))
		return 0;
	prod_refresh_cons(p);
	if (p->broken)
		return 0;
	return p->desc_count - (p->prod - p->cons);
}

/* ---- consumer ------------------------------------------------------------- */

static int __attribute__((format(printf, 2, 3)))
attach_fail(struct peer_ring_cons *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copies the geometry out of the file field by field, once; everything
 * after attach uses the copy, so the producer rewriting it changes
 * nothing. */
static void read_geom(const struct peer_ring_hdr *h, struct peer_ring_geom *g)
{
	g->magic = READ_ONCE(h->geom.magic);
	g->version = READ_ONCE(h->geom.version);
	g->desc_count = READ_ONCE(h->geom.desc_count);
	g->data_size = READ_ONCE(h->geom.data_size);
	g->desc_off = READ_ONCE(h->geom.desc_off);
	g->data_off = READ_ONCE(h->geom.data_off);
	g->file_size = READ_ONCE(h->geom.file_size);
	g->start_idx = READ_ONCE(h->geom.start_idx);
	g->reserved = READ_ONCE(h->geom.reserved);
}

int peer_ring_cons_attach(struct peer_ring_cons *c, int fd,
			  uint32_t desc_count, uint32_t data_size)
{
	struct peer_ring_geom want, got;
	struct stat st;
	void *map;

	memset(c, 0, sizeof(*c));
	if (peer_ring_geom_check(desc_count, data_size, c->reason,
				 sizeof(c->reason)))
		return -EINVAL;
	fill_geom(&want, desc_count, data_size, 0);
	if (fstat(fd, &st) < 0)
		return attach_fail(c, "ring fd: fstat failed: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return attach_fail(c, "ring fd is not a regular file (mode 0%o)",
				   (unsigned)st.st_mode);
	if (st.st_size < 0 || (uint64_t)st.st_size != want.file_size)
		return attach_fail(c, "ring file size %lld, expected %llu",
				   (long long)st.st_size,
				   (unsigned long long)want.file_size);
	map = mmap(NULL, (size_t)want.file_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		int err = errno;

		attach_fail(c, "ring mmap failed: %s", strerror(err));
		return -err;
	}
	c->hdr = map;
	c->map_size = (size_t)want.file_size;
	/* Before the first access: the file may already be shorter than
	 * fstat said. */
	c->guard = sigbus_guard_add(map, c->map_size, -1);

	read_geom(c->hdr, &got);
	if (sigbus_guard_hit(c->guard)) {
		attach_fail(c, "ring file truncated while attaching");
		goto err;
	}
	if (got.magic != want.magic) {
		attach_fail(c, "ring header: bad magic 0x%08x", got.magic);
		goto err;
	}
	if (got.version != want.version) {
		attach_fail(c, "ring header: version %u, expected %u", got.version,
			    want.version);
		goto err;
	}
	if (got.desc_count != want.desc_count || got.data_size != want.data_size ||
	    got.desc_off != want.desc_off || got.data_off != want.data_off ||
	    got.file_size != want.file_size || got.reserved != 0) {
		attach_fail(c, "ring header geometry (desc_count %u, data_size %u) does not match the announced (%u, %u)",
			    got.desc_count, got.data_size, desc_count, data_size);
		goto err;
	}
	c->desc = (const struct peer_ring_desc *)((uint8_t *)map + want.desc_off);
	c->data = (const uint8_t *)map + want.data_off;
	c->desc_count = desc_count;
	c->mask = desc_count - 1;
	c->data_size = data_size;
	c->cons = c->cons_pub = c->prod = got.start_idx;
	/* The producer created the ring with cons_need_wakeup set. */
	c->sleeping = true;
	return 0;
err:
	sigbus_guard_del(&c->guard);
	munmap(map, c->map_size);
	c->hdr = NULL;
	return -EINVAL;
}

bool peer_ring_cons_check_truncated(struct peer_ring_cons *c)
{
	if (!sigbus_guard_hit(c->guard))
		return false;
	set_broken(&c->broken, c->reason, "ring file truncated by the producer");
	return true;
}

void peer_ring_cons_detach(struct peer_ring_cons *c)
{
	sigbus_guard_del(&c->guard);
	if (c->hdr)
		munmap(c->hdr, c->map_size);
	c->hdr = NULL;
	c->desc = NULL;
	c->data = NULL;
	c->have_cur = false;
}

/* Rereads the producer's index: it may only move forward, and at most
 * desc_count ahead of what we consumed. */
static void cons_refresh_prod(struct peer_ring_cons *c)
{
	/* acquire: the descriptors and bytes behind prod are visible. */
	uint32_t np = load_acquire(&c->hdr->prod);

	if (peer_ring_cons_check_truncated(c))
		return;
	if ((int32_t)(np - c->prod) < 0)
		set_broken(&c->broken, c->reason,
			   "producer index moved backwards (%u after %u)", np,
			   c->prod);
	else if (np - c->cons > c->desc_count)
		set_broken(&c->broken, c->reason,
			   "producer index %u is more than %u ahead of consumer %u",
			   np, c->desc_count, c->cons);
	else
		c->prod = np;
}

/* What the consumer found wrong with record idx (a descriptor of off and
 * l, its header h when check_hdr): the ring breaks, with the reason,
 * unless the file was truncated (which is the reason then: a truncated
 * file reads as zero pages, which no descriptor passes).  Out of line and
 * cold, so that the reasons' formatting costs the checks no registers or
 * stack. */
static void __attribute__((cold, noinline))
rec_refuse(struct peer_ring_cons *c, uint32_t idx, uint32_t off, uint32_t l,
	   const struct virtio_net_hdr_v1 *h)
{
	char why[PEER_RING_REASON_LEN - 16];

	if (peer_ring_cons_check_truncated(c))
		return;
	if (!peer_ring_rec_len_ok(l))
		set_broken(&c->broken, c->reason, "record %u: length %u outside %u..%u", idx,
			   l, PEER_RING_REC_MIN, PEER_RING_REC_MAX);
	else if (off % PEER_RING_ALIGN)
		set_broken(&c->broken, c->reason, "record %u: offset %u not %u-byte aligned",
			   idx, off, PEER_RING_ALIGN);
	else if (off > c->data_size || l > c->data_size - off)
		set_broken(&c->broken, c->reason,
			   "record %u: offset %u + length %u past the data area (%u)",
			   idx, off, l, c->data_size);
	else if (h && net_hdr_check(h, l - PEER_RING_REC_MIN, why, sizeof(why)))
		set_broken(&c->broken, c->reason, "record %u: %s", idx, why);
}

/* THE record rule: reads descriptor idx once, checks it, and copies the
 * record's header into *h, checked there when check_hdr (a private copy:
 * the producer may change the shared one meanwhile, so the caller acts on
 * this one).  False, with the ring latched broken, when it fails. */
static inline __attribute__((always_inline)) bool
cons_read_rec(struct peer_ring_cons *c, uint32_t idx, uint32_t *off_out, uint32_t *len_out,
	      struct virtio_net_hdr_v1 *h)
{
	const struct peer_ring_desc *d = &c->desc[idx & c->mask];
	uint32_t off = READ_ONCE(d->off);
	uint32_t l = READ_ONCE(d->len);

	/* Length in REC_MIN..REC_MAX, offset aligned, and the record
	 * inside the data area (in 64 bits: no wrap); rec_refuse says
	 * which failed. */
	if (__builtin_expect(!peer_ring_rec_len_ok(l) ||
			     off % PEER_RING_ALIGN || (uint64_t)off + l > c->data_size, 0)) {
		rec_refuse(c, idx, off, l, NULL);
		return false;
	}
	memcpy(h, c->data + off, sizeof(*h));
	if (c->check_hdr && __builtin_expect(net_hdr_check(h, l - PEER_RING_REC_MIN, NULL, 0), 0)) {
		rec_refuse(c, idx, off, l, h);
		return false;
	}
	*off_out = off;
	*len_out = l;
	return true;
}

int peer_ring_peek(struct peer_ring_cons *c, const uint8_t **rec,
		   uint32_t *len)
{
	if (c->broken)
		return -EIO;
	if (!c->have_cur) {
		struct virtio_net_hdr_v1 h;

		/* Truncation is checked when we reread the producer's index,
		 * and when a record is refused (rec_refuse). */
		if (c->cons == c->prod) {
			cons_refresh_prod(c);
			if (c->broken)
				return -EIO;
			if (c->cons == c->prod)
				return 0;
		}
		if (!cons_read_rec(c, c->cons, &c->cur_off, &c->cur_len, &h))
			return -EIO;
		c->have_cur = true;
	}
	*rec = c->data + c->cur_off;
	*len = c->cur_len;
	return 1;
}

int peer_ring_peek_burst(struct peer_ring_cons *c, struct peer_ring_rec *out, unsigned max)
{
	uint32_t n;

	if (c->broken)
		return -EIO;
	c->have_cur = false;	/* read again below, through the same checks */
	if (c->cons == c->prod) {
		cons_refresh_prod(c);
		if (c->broken)
			return -EIO;
	}
	n = c->prod - c->cons;
	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off;

		if (!cons_read_rec(c, c->cons + i, &off, &out[i].len, &out[i].hdr))
			/* The good ones first; the next call finds the ring
			 * broken. */
			return i ? (int)i : -EIO;
		out[i].rec = c->data + off;
	}
	return (int)n;
}

int peer_ring_prod_unconsumed(struct peer_ring_prod *p, bool check_hdr,
			      void (*fn)(void *arg, const uint8_t *rec, uint32_t len), void *arg)
{
	/* A consumer's view of our own mapping, from the consumer's last
	 * validated index to our own producer index (never the shared one,
	 * which the consumer could have written too). */
	struct peer_ring_cons v = {
		.hdr = p->hdr, .map_size = p->map_size, .desc = p->desc, .data = p->data,
		.desc_count = p->desc_count, .mask = p->mask, .data_size = p->data_size,
		.check_hdr = check_hdr, .guard = p->guard,
	};
	int n = 0;

	if (p->broken)
		return -EIO;
	(void)peer_ring_free_slots(p);	/* rereads and checks the consumer's index */
	if (p->broken)
		return -EIO;
	v.cons = v.cons_pub = v.prod = p->cons;
	while (v.cons != p->prod) {
		const uint8_t *rec;
		uint32_t len;

		v.prod = p->prod;
		if (peer_ring_peek(&v, &rec, &len) != 1)
			return -EIO;
		fn(arg, rec, len);
		peer_ring_consume(&v);
		n++;
	}
	return n;
}

bool peer_ring_cons_publish(struct peer_ring_cons *c)
{
	bool wake;

	if (c->broken || c->cons == c->cons_pub)
		return false;
	/* release: our reads of the records are done before the producer
	 * may reuse their space. */
	store_release(&c->hdr->cons, c->cons);
	c->cons_pub = c->cons;
	/* store cons -> load flag; pairs with peer_ring_prod_wait_prepare. */
	smp_mb();
	wake = READ_ONCE(c->hdr->prod_need_wakeup) != 0;
	if (wake)
		c->stats.wakeups_requested++;
	return wake;
}

bool peer_ring_cons_sleep_prepare(struct peer_ring_cons *c)
{
	if (c->broken)
		return false;
	WRITE_ONCE(c->hdr->cons_need_wakeup, 1);
	c->sleeping = true;
	/* flag store -> prod load; pairs with peer_ring_publish. */
	smp_mb();
	if (c->have_cur || c->cons != c->prod) {
		peer_ring_cons_awake(c);
		return false;
	}
	cons_refresh_prod(c);
	if (c->broken)
		return false;
	if (c->cons != c->prod) {
		peer_ring_cons_awake(c);
		return false;
	}
	return true;
}

void peer_ring_cons_awake(struct peer_ring_cons *c)
{
	/* Only a real change touches the producer's cache line. */
	if (!c->sleeping || !c->hdr)
		return;
	c->sleeping = false;
	WRITE_ONCE(c->hdr->cons_need_wakeup, 0);
}
