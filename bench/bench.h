/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what the parts of vnet-bench share.
 *
 *   main.c    command line, the JSON result line
 *   uring.c   io_uring: eventfd reads kept posted, kicks queued as writes
 *             and submitted in batches, one io_uring_enter to sleep
 *   frames.c  the frames the scenarios send (plain, or TCPv4 for TSO)
 *   ring.c    scenario "ring": the peer ring alone, two processes
 *   guest.c   scenarios on a vnet-host vdev: tx/rx one hop (the bench is
 *             also the vdev's peer: a sink or a source), send/recv end to
 *             end, ping/pong; sink/source: only the peer, of a vdev that
 *             another frontend drives (DPDK's virtio-user, vhost-user)
 *   limits.c  the machine's limits: eventfd wake-up, cache-line transfer
 *
 * Each run prints one JSON object on stdout (the counters of one side of
 * one scenario); bench/run.sh gathers them with the anchors' figures.
 */
#ifndef VNET_BENCH_H
#define VNET_BENCH_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/virtio.h"

#define BENCH_BATCH	64u	/* frames per burst */
#define BENCH_MAX_FDS	8u	/* eventfds one side sleeps on */

struct bench_opts {
	const char *cmd;
	const char *socket;	/* the vdev's vfio-user socket */
	const char *peer_dir;	/* run dir for the bench's own peer node */
	const char *peer_system, *peer_name;	/* its system and name */
	uint8_t dst[6];		/* destination MAC (send, ping) */
	bool have_dst;
	uint32_t size;		/* frame bytes (Ethernet, no FCS) */
	double seconds;
	bool poll;		/* busy-poll mode */
	unsigned poll_us;	/* spin this long before sleeping */
	bool tso;		/* 64 KiB frames as TCPv4 TSO */
	bool packed;
	bool hugepages;		/* guest RAM on huge pages */
	unsigned cpu_pids[4];	/* other processes whose CPU time to report */
	unsigned n_cpu_pids;
	const char *label;	/* scenario name in the JSON */
	uint64_t count;		/* ping: round trips */
	bool pin;		/* ring: producer on CPU 0, consumer on CPU 1 */
	bool epoll;		/* ring: wait with epoll instead of io_uring */
};

/* One side's result; printed as JSON by bench_print. */
struct bench_result {
	const char *scenario, *side;
	uint64_t frames, bytes;
	double seconds;
	uint64_t lost, reordered;	/* from sequence numbers (receivers) */
	uint64_t kicks, irqs;		/* guest driver: doorbells rung, interrupts */
	uint64_t bells_sent, bells_recv; /* peer ring doorbells */
	uint64_t sleeps, wakeups;	/* io_uring waits that slept / woke */
	uint64_t submits;		/* io_uring_enter calls */
	double cpu_user, cpu_sys;	/* this process, over the run */
	double other_cpu[4];		/* --cpu-pid processes (user+sys) */
	unsigned n_other;
	/* ping */
	uint64_t samples;
	double rtt_p50_us, rtt_p99_us, rtt_p999_us, rtt_min_us, rtt_max_us;
};

void bench_print(const struct bench_opts *o, const struct bench_result *r);

/* CPU time of this process (user, sys seconds). */
void bench_cpu_self(double *user, double *sys);
/* user+sys seconds of another process, from /proc/PID/stat; -1 when gone. */
double bench_cpu_pid(unsigned pid);

/* ---- io_uring ----------------------------------------------------------- */

struct bu_watch {
	int fd;
	uint64_t val;		/* the read's buffer */
	bool posted;
};

struct bu {
	/* epoll instead of io_uring (--epoll): the comparison that tells
	 * whether io_uring waits pay off (the host's loop uses epoll). */
	bool epoll;
	int epfd;
	struct io_uring ring;
	struct bu_watch w[BENCH_MAX_FDS];
	unsigned nw;
	unsigned queued;	/* SQEs not yet submitted */
	uint64_t submits, sleeps, wakeups, writes;
	int err;		/* first failed CQE (-errno) */
};

int bu_init(struct bu *u);
/* The same API on epoll_wait + read/write syscalls. */
int bu_init_epoll(struct bu *u);
void bu_exit(struct bu *u);
/* Watches fd: a read of its counter stays posted; returns the slot. */
int bu_watch(struct bu *u, int fd);
/* Queues an eventfd write of 1 (a kick); sent with the next flush/sleep. */
void bu_kick(struct bu *u, int fd);
/* Submits queued SQEs (one io_uring_enter), if any. */
void bu_flush(struct bu *u);
/* Sleeps up to timeout_us (submitting what is queued in the same call)
 * until a watched fd fires; reaps every CQE.  fired(slot, count) runs for
 * each read that completed.  Returns the number of reads completed. */
typedef void (*bu_fired_fn)(void *arg, int fd, uint64_t count);
int bu_sleep(struct bu *u, unsigned timeout_us, bu_fired_fn fired, void *arg);
/* Reaps completed CQEs without entering the kernel. */
int bu_reap(struct bu *u, bu_fired_fn fired, void *arg);

/* ---- frames --------------------------------------------------------------- */

/* Builds a frame of len bytes: plain (EtherType 0x88B5, frame.h layout)
 * or, with tso, a TCPv4 segment train of MSS 1448 with its virtio-net
 * header (NEEDS_CSUM, GSO_TCPV4).  hdr may be NULL for plain frames. */
int bench_frame(uint8_t *buf, uint32_t len, const uint8_t dst[6],
		const uint8_t src[6], bool tso, struct virtio_net_hdr_v1 *hdr);
/* The sequence number every frame carries (at a fixed offset). */
void bench_frame_seq(uint8_t *buf, bool tso, uint64_t seq);
uint64_t bench_frame_get_seq(const uint8_t *buf, uint32_t len, bool tso, bool *ok);
void bench_frame_ts(uint8_t *buf, bool tso, uint64_t ts);
uint64_t bench_frame_get_ts(const uint8_t *buf, bool tso);

struct peer_ring_prod;
/* Has the producer room for a record of len bytes?  Conservative (a
 * record may need the tail skipped): for polling only, never trusted. */
bool bench_ring_room(struct peer_ring_prod *p, uint32_t len);

int bench_ring(const struct bench_opts *o);
/* Pins the calling thread to one CPU (best effort, logged). */
void bench_pin(unsigned cpu);
int bench_guest(const struct bench_opts *o);
/* `vnet-bench limits`: one JSON line per measurement (limits.c). */
int bench_limits(const struct bench_opts *o);

#endif /* VNET_BENCH_H */
