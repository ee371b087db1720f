// SPDX-License-Identifier: MIT
/*
 * ring_cases.c - see ring_cases.h.
 */
#include "tests/unit/support/ring_cases.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static bool applies(const struct ring_case *c, const struct ring_cfg *cfg)
{
	return (c->layouts & (1u << cfg->layout)) &&
	       (cfg->flags & c->need) == c->need && !(cfg->flags & c->forbid);
}

int ring_cases_run(const struct ring_cfg *cfgs, size_t ncfgs,
		   const struct ring_case *cases, size_t ncases)
{
	struct CMUnitTest *group = calloc(ncases, sizeof(*group));
	char (*names)[128] = calloc(ncases, sizeof(*names));
	int failed = 0;

	if (!group || !names) {
		free(group);
		free(names);
		return 1;
	}
	for (size_t i = 0; i < ncfgs; i++) {
		size_t n = 0;

		for (size_t k = 0; k < ncases; k++) {
			if (!applies(&cases[k], &cfgs[i]))
				continue;
			snprintf(names[n], sizeof(names[n]), "%s: %s",
				 cfgs[i].name, cases[k].name);
			group[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = cases[k].fn,
				.initial_state = (void *)&cfgs[i],
			};
			n++;
		}
		/* cmocka_run_group_tests_name() wants an array whose size the
		 * compiler knows; these groups are built at run time. */
		if (n)
			failed += _cmocka_run_group_tests(cfgs[i].name, group, n,
							  NULL, NULL);
	}
	free(group);
	free(names);
	return failed;
}
