/* SPDX-License-Identifier: MIT */
/*
 * mac.h - Ethernet MAC addresses as people write them, for every tool:
 * parsing with the reason a string is refused, and formatting.
 */
#ifndef VNET_MAC_H
#define VNET_MAC_H

#include <stddef.h>
#include <stdint.h>

#define MAC_STR_LEN 18	/* "52:54:00:12:34:56" and its NUL */

/* Six hex pairs separated by ':' or '-'; a device needs a unicast,
 * non-zero address, so multicast and all-zero addresses are refused.
 * 0, or -EINVAL with why (may be NULL) saying what was wrong. */
int mac_parse(const char *s, uint8_t mac[6], char *why, size_t whylen);
/* Lower-case, ':'-separated, into buf (MAC_STR_LEN bytes); returns buf. */
const char *mac_format(const uint8_t mac[6], char *buf);

#endif /* VNET_MAC_H */
