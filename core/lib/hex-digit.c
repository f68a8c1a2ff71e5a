/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex-digit.c - the value of one hex digit, for the parsers of feature
 * words (features.c) and of JSON \u escapes (core/crypto).
 */
#include "config.h"

#include <hsmadmin/fileio.h>

int hsm_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
