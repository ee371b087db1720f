// SPDX-License-Identifier: MIT
/*
 * jsonout.c - helpers for the JSON we print (jsonout.h).
 */
#include "common/jsonout.h"

#include <stdio.h>

json_object *jsonout_double(double v, int prec)
{
	char text[64];

	snprintf(text, sizeof(text), "%.*f", prec, v);
	return json_object_new_double_s(v, text);
}
