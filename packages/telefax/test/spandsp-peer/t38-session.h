/*
 * t38-session.h - one spandsp T.38 terminal fax call over a UDP socket with our UDPTL.
 *
 * The caller owns the socket and the remote address, so a signalling front (SIP: m=image udptl t38) can
 * negotiate first and then hand both to t38_session_run().
 */
#ifndef FAXWIRE_T38_SESSION_H
#define FAXWIRE_T38_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

enum t38_session_compression
{
    T38_SESSION_MH = 0,
    T38_SESSION_MR,
    T38_SESSION_MMR
};

typedef struct
{
    int sending;                /* 1: transmit `file`; 0: receive into `file` */
    const char *file;
    int caller;                 /* calling party (sends CNG, waits for DIS) */
    int ecm;
    int compression;            /* highest compression offered/used: T38_SESSION_* */
    int max_rate;               /* 14400, 12000, 9600, 7200, 4800, 2400 */
    const char *ident;          /* our TSI/CSI, may be NULL */
    double loss_pct;            /* drop this share of outgoing datagrams */
    unsigned int seed;
    int ec_mode;                /* UDPTL_EC_* */
    int redundancy;
    int fec_span;
    int fec_entries;
    int max_datagram;           /* far end's UDPTL datagram limit */
    int t38_version;
    int paced;                  /* 1: clock = wall clock; 0: skip our own transmit waits (see README) */
    int unpaced_gap_us;         /* minimum wall time between two transmit steps when unpaced (default 100) */
    double timeout_s;           /* wall-clock backstop for the whole call */
    int verbose;
    const char *log_tag;
    const volatile int *stop;   /* optional: set non-zero (signal handler, SIP BYE) to end the call now */
} t38_session_config_t;

typedef struct
{
    int ok;
    int completion_code;        /* T30_ERR_* */
    char reason[160];
    int pages;
    int bit_rate;
    int ecm;
    int encoding;               /* T4_COMPRESSION_* of the last page */
    int x_resolution;
    int y_resolution;           /* pixels per metre */
    char remote_ident[64];
    long duration_ms;
    long simulated_ms;
    unsigned long tx_datagrams;
    unsigned long tx_dropped;
    unsigned long rx_datagrams;
    unsigned long rx_recovered;
    unsigned long rx_lost;
    unsigned long rx_malformed;
    unsigned long rx_overflow;  /* datagrams the kernel dropped because our socket buffer was full */
} t38_session_result_t;

void t38_session_config_defaults(t38_session_config_t *cfg);

/* Runs the call to completion (or the timeout) on `fd`, sending to `remote`. Returns 0 if the fax succeeded. */
int t38_session_run(const t38_session_config_t *cfg, int fd, const struct sockaddr *remote, socklen_t remote_len,
                    t38_session_result_t *result);

#endif
