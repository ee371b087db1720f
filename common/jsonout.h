/* SPDX-License-Identifier: MIT */
/*
 * jsonout.h - what every JSON document we print shares (they are built
 * with json-c: `vnet-host stats --json`, `vnet-guest ... --json`, the
 * bench results).
 */
#ifndef VNET_COMMON_JSONOUT_H
#define VNET_COMMON_JSONOUT_H

#include <json-c/json.h>

/* For people and greps: "key": value, { "group": { ... } } on one line,
 * so `grep '"drops": {'` and tests/integration/lib.sh's counter() match.
 * (vnet-bench prints JSON_C_TO_STRING_PLAIN, "key":value, which its
 * consumers expect.)  '/' is never escaped. */
#define JSONOUT_SPACED (JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSONOUT_PLAIN  (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A number printed with prec decimals, as "%.*f" would print it (json-c
 * alone prints %.17g: 0.98299999999999998). */
json_object *jsonout_double(double v, int prec);

#endif /* VNET_COMMON_JSONOUT_H */
