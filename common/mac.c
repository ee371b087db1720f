// SPDX-License-Identifier: MIT
/*
 * mac.c - MAC address parsing and formatting (see mac.h).
 */
#include "common/mac.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int refuse(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return -EINVAL;
}

int mac_parse(const char *s, uint8_t mac[6], char *why, size_t whylen)
{
	static const char expected[] =
		"is not a MAC address: expected six hex pairs separated by ':' or '-', like 52:54:00:12:34:56";
	uint8_t m[6];
	char sep;

	if (!s || !mac || strnlen(s, MAC_STR_LEN) != MAC_STR_LEN - 1)
		return refuse(why, whylen, expected);
	sep = s[2];
	if (sep != ':' && sep != '-')
		return refuse(why, whylen, expected);
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(s[3 * i]);
		int lo = hex_value(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != sep))
			return refuse(why, whylen, expected);
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)
		return refuse(why, whylen,
			      "is a multicast address (bit 0 of the first byte is set); a device needs a unicast address");
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return refuse(why, whylen, "is all zeros; a device needs a real unicast address");
	memcpy(mac, m, 6);
	return 0;
}

const char *mac_format(const uint8_t mac[6], char *buf)
{
	snprintf(buf, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return buf;
}
