/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the one multi-call binary.  hsmadmin, vcmadmin and the other
 * tools are this program under another name; everything else is in
 * libhsmadmin (core/lib/dispatch.c) and the plugins.
 */
#include "dispatch.h"

int main(int argc, char **argv)
{
	return hsm_main(argc, argv);
}
