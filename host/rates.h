/* SPDX-License-Identifier: MIT */
/*
 * rates.h - `vnet-host stats --interval S`: every S seconds, one line per
 * vdev with the rates since the last sample (frames/s and Mbit/s each
 * way, drops/s, interrupts per frame), read from the control socket's
 * "stats json" (host/control.h) until the process is interrupted.
 */
#ifndef VNET_HOST_RATES_H
#define VNET_HOST_RATES_H

/* Runs until a signal ends the process; -errno when a sample fails (the
 * message is on stderr). */
int stats_rates(const char *who, const char *dir, unsigned interval);

#endif /* VNET_HOST_RATES_H */
