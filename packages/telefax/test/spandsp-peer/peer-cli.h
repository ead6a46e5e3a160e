/*
 * peer-cli.h - what the command lines and JSON results of spandsp-peer and spandsp-sip-peer have in common:
 * the T.30/T.38 options of the terminal (--ecm, --compression, --max-rate, --ident, --redundancy, --fec, --loss,
 * --seed, --pace, --verbose) and the result fields of one T.38 session.
 */
#ifndef FAXWIRE_PEER_CLI_H
#define FAXWIRE_PEER_CLI_H

#include <stdio.h>

#include "t38-session.h"

/* Parses a whole decimal integer in [lo, hi] into *out. Returns 0, or -1 if `s` is not one. */
int peer_parse_int(const char *s, int lo, int hi, int *out);

/* Parses a whole decimal number in (lo, hi] into *out. Returns 0, or -1 if `s` is not one. */
int peer_parse_double(const char *s, double lo, double hi, double *out);

/* Takes argv[*i] if it is one of the terminal options above, with its value (advancing *i past it).
   Returns 1 if taken, 0 if argv[*i] is not one of them, -1 if its value is missing or bad. */
int peer_session_option(t38_session_config_t *cfg, int argc, char *argv[], int *i);

/* Writes `str` as a JSON string. */
void peer_json_string(FILE *f, const char *str);

/* Writes the outcome of a session as an open JSON object, `{"ok":…,"rxOverflow":N`, for the caller to close or
   extend; `ok`, `reason` and `completion_code` are given apart from `r` because a call can end before the session. */
void peer_print_session_fields(FILE *f, int ok, const char *reason, int completion_code,
                               const t38_session_result_t *r);

#endif
