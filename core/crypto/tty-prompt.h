/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/tty-prompt.h - asking for a secret on the terminal: echo
 * off while it is typed, and the terminal's settings restored even when a
 * signal (Ctrl-C, a hang-up, kill) ends the process at the prompt.
 */
#ifndef HSM_CRYPTO_TTY_PROMPT_H
#define HSM_CRYPTO_TTY_PROMPT_H

#include <stddef.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* Write prompt to the terminal fd, read one line without echo into buf
 * (NUL-terminated, without the newline).  Returns the line's length, or
 * -1 when it does not fit in max - 1 bytes (buf then holds nothing) or
 * the terminal cannot be written.  A signal that ends the process while
 * echo is off restores the terminal first, then acts as it would have. */
HSM_API int hsm_tty_prompt_hidden(int fd, const char *prompt, char *buf, size_t max);

#endif
