/* SPDX-License-Identifier: MIT */
/*
 * version.h - "--version" for every tool.  The version itself comes from
 * one place, the Makefile (VNET_VERSION: `git describe` when the tree is a
 * git checkout with a v* tag, else the VERSION file), passed with -D to the
 * files that include this header.
 */
#ifndef VNET_VERSION_H
#define VNET_VERSION_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef VNET_VERSION
#define VNET_VERSION "unknown"
#endif

/* True (after printing "TOOL VERSION") when the command line is exactly
 * "TOOL --version". */
static inline bool vnet_print_version(int argc, char **argv, const char *tool)
{
	if (argc != 2 || strcmp(argv[1], "--version") != 0)
		return false;
	printf("%s %s\n", tool, VNET_VERSION);
	return true;
}

#endif /* VNET_VERSION_H */
