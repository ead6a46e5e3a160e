/*
 * t38-session.c - drives a spandsp t38_terminal over UDP with our UDPTL (see t38-session.h).
 *
 * Clock: spandsp counts time in 8 kHz samples handed to t38_terminal_send_timeout(). Paced, the samples
 * follow the wall clock in 10 ms ticks, as on a real gateway. Unpaced, whenever the terminal has a transmit
 * step waiting (training, flags, image chunks, pauses), the clock jumps straight to that step; while it
 * only waits for the far end, the clock follows the wall clock. The clock therefore never runs slower than
 * wall time and only skips time that our own transmitter would have spent, so T.30 response timers
 * (T2/T4) on either side still measure the peer's real reaction time and cannot expire spuriously.
 *
 * spandsp 0.0.6 has no API to ask whether a transmit step is queued or when it is due, nor to cap the start
 * rate, so this file reads t38_fe.timed_step / next_tx_samples and sets t30.current_fallback through
 * <spandsp/expose.h> (the structures of the installed library version).
 */
#define _GNU_SOURCE
#include "t38-session.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>
#include <spandsp/expose.h>

#include "udptl.h"

#define SAMPLES_PER_SECOND 8000
#define US_PER_SAMPLE 125
#define PACED_TICK_US 10000
#define UNPACED_IDLE_US 2000
#define AFTER_PHASE_E_US 3000000

typedef struct
{
    const t38_session_config_t *cfg;
    t38_terminal_state_t *term;
    t30_state_t *t30;
    t38_core_state_t *core;
    udptl_state_t udptl;
    int fd;
    const struct sockaddr *remote;
    socklen_t remote_len;
    uint64_t rng;
    int phase_e_done;
    int completion_code;
    t30_stats_t stats;
    char remote_ident[64];
    int64_t start_us;
    int64_t phase_e_us;
    t38_session_result_t *result;
} session_t;

static const char *log_tag = "peer";

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double next_random(session_t *s)
{
    /* xorshift64*: a seeded, reproducible loss pattern */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double) ((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int tx_packet_handler(t38_core_state_t *core, void *user_data, const uint8_t *buf, int len, int count)
{
    session_t *s = (session_t *) user_data;
    uint8_t out[UDPTL_MAX_DATAGRAM];
    int n;

    (void) core;
    if ((n = udptl_build(&s->udptl, buf, len, out, sizeof(out))) < 0)
    {
        fprintf(stderr, "[%s] IFP of %d octets does not fit a datagram\n", log_tag, len);
        return -1;
    }
    /* spandsp asks for some packets (indicators, ends of data) to be sent `count` times; repeats keep the
       same seq, so a receiver discards whichever copies it does not need. */
    for (int i = 0; i < count; i++)
    {
        s->result->tx_datagrams++;
        if (s->cfg->loss_pct > 0 && next_random(s) * 100.0 < s->cfg->loss_pct)
        {
            s->result->tx_dropped++;
            continue;
        }
        if (sendto(s->fd, out, n, 0, s->remote, s->remote_len) < 0 && s->cfg->verbose)
            fprintf(stderr, "[%s] sendto: %s\n", log_tag, strerror(errno));
    }
    return 0;
}

static void ifp_handler(void *user_data, const uint8_t *ifp, int len, uint16_t seq)
{
    session_t *s = (session_t *) user_data;

    t38_core_rx_ifp_packet(s->core, ifp, len, seq);
}

static int64_t log_epoch_us;

static void log_message(int level, const char *text)
{
    (void) level;
    fprintf(stderr, "[%s %8.3f] %s", log_tag, (double) (now_us() - log_epoch_us) / 1e6, text);
}

static void enable_logging(logging_state_t *ls, const char *tag)
{
    span_log_set_level(ls, SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_TAG | SPAN_LOG_FLOW);
    span_log_set_tag(ls, tag);
    span_log_set_message_handler(ls, log_message);
}

/* Index into spandsp's fallback table (t30.c): 14400 V.17, 12000 V.17, 9600 V.17, 9600 V.29, 7200 V.17,
   7200 V.29, 4800 V.27ter, 2400 V.27ter. */
static int fallback_floor(int max_rate)
{
    switch (max_rate)
    {
    case 12000:
        return 1;
    case 7200:
        return 5;
    case 2400:
        return 7;
    default:
        return 0;
    }
}

static int supported_modems(int max_rate)
{
    if (max_rate >= 12000)
        return T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
    if (max_rate >= 7200)
        return T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
    return T30_SUPPORT_V27TER;
}

static int phase_b_handler(t30_state_t *t30, void *user_data, int result)
{
    session_t *s = (session_t *) user_data;
    int floor = fallback_floor(s->cfg->max_rate);

    (void) result;
    /* DIS can only say which modems exist, not a top rate; for 12000/7200/2400 the transmitter starts
       lower in the fallback table (DIS bits 11-14 cannot express these caps). */
    if (floor > 0 && t30->current_fallback < floor)
        t30->current_fallback = floor;
    return T30_ERR_OK;
}

static void phase_e_handler(t30_state_t *t30, void *user_data, int completion_code)
{
    session_t *s = (session_t *) user_data;
    const char *ident;

    s->phase_e_done = 1;
    s->phase_e_us = now_us();
    s->completion_code = completion_code;
    t30_get_transfer_statistics(t30, &s->stats);
    ident = t30_get_rx_ident(t30);
    snprintf(s->remote_ident, sizeof(s->remote_ident), "%s", ident ? ident : "");
    if (s->cfg->verbose)
        fprintf(stderr, "[%s] phase E: %d %s\n", log_tag, completion_code, t30_completion_code_to_str(completion_code));
}

static int compressions_for(int c)
{
    switch (c)
    {
    case T38_SESSION_MH:
        return T30_SUPPORT_T4_1D_COMPRESSION;
    case T38_SESSION_MR:
        return T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION;
    default:
        return T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION;
    }
}

void t38_session_config_defaults(t38_session_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ecm = 1;
    cfg->compression = T38_SESSION_MMR;
    cfg->max_rate = 14400;
    cfg->seed = 1;
    cfg->ec_mode = UDPTL_EC_REDUNDANCY;
    cfg->redundancy = 3;
    cfg->fec_span = 3;
    cfg->fec_entries = 3;
    cfg->max_datagram = 1400;
    cfg->t38_version = 0;
    cfg->paced = 1;
    cfg->unpaced_gap_us = 100;
    cfg->timeout_s = 180;
    cfg->log_tag = "peer";
}

static void drain_socket(session_t *s)
{
    uint8_t buf[UDPTL_MAX_DATAGRAM + 64];

    for (;;)
    {
        union
        {
            char buf[CMSG_SPACE(sizeof(uint32_t))];
            struct cmsghdr align;
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof(control.buf) };
        ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);

        if (n < 0)
        {
            if (errno == EINTR)
                continue;
            /* EAGAIN, or a socket error (reading it clears it): nothing more to read now. */
            return;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
        {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
            {
                uint32_t dropped;

                memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
                s->result->rx_overflow = dropped;
            }
        }
        s->result->rx_datagrams++;
        if (udptl_rx(&s->udptl, buf, (int) n) < 0 && s->cfg->verbose)
            fprintf(stderr, "[%s] malformed UDPTL datagram (%zd octets)\n", log_tag, n);
    }
}

int t38_session_run(const t38_session_config_t *cfg, int fd, const struct sockaddr *remote, socklen_t remote_len,
                    t38_session_result_t *result)
{
    session_t s;
    int64_t last_us;
    int64_t last_step_us;
    int64_t next_tick_us;
    int64_t acc_us = 0;
    int64_t simulated_samples = 0;
    int done = 0;
    int timed_out = 0;
    int stopped = 0;

    int rcvbuf = 4 << 20;
    int on = 1;

    log_epoch_us = now_us();
    memset(&s, 0, sizeof(s));
    memset(result, 0, sizeof(*result));
    log_tag = cfg->log_tag ? cfg->log_tag : "peer";
    s.cfg = cfg;
    s.fd = fd;
    s.remote = remote;
    s.remote_len = remote_len;
    s.result = result;
    s.rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t) cfg->seed * 0xBF58476D1CE4E5B9ULL);
    if (s.rng == 0)
        s.rng = 1;
    s.completion_code = -1;

    /* Unpaced bursts (up to 10k datagrams/s) must survive the far end being descheduled for a while: ask for a
       large buffer beyond rmem_max where permitted, and count kernel drops so they show up in the result. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));

    udptl_init(&s.udptl, cfg->ec_mode, cfg->redundancy, cfg->fec_span, cfg->fec_entries, cfg->max_datagram,
               ifp_handler, &s);
    s.udptl.ifp_version = cfg->t38_version;

    if ((s.term = t38_terminal_init(NULL, cfg->caller, tx_packet_handler, &s)) == NULL)
    {
        snprintf(result->reason, sizeof(result->reason), "t38_terminal_init failed");
        return -1;
    }
    s.t30 = t38_terminal_get_t30_state(s.term);
    s.core = t38_terminal_get_t38_core_state(s.term);
    if (cfg->verbose)
    {
        enable_logging(t38_terminal_get_logging_state(s.term), log_tag);
        enable_logging(t38_core_get_logging_state(s.core), log_tag);
        enable_logging(t30_get_logging_state(s.t30), log_tag);
    }
    /* UDP transport: paced IFPs, indicators on, and transferred TCF (rate management method 2, the one T.38
       requires over UDPTL). */
    t38_terminal_set_config(s.term, 0);
    t38_set_t38_version(s.core, cfg->t38_version);
    t38_set_data_rate_management_method(s.core, T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF);
    t38_set_fastest_image_data_rate(s.core, cfg->max_rate);

    if (cfg->ident)
        t30_set_tx_ident(s.t30, cfg->ident);
    if (cfg->sending)
        t30_set_tx_file(s.t30, cfg->file, -1, -1);
    else
        t30_set_rx_file(s.t30, cfg->file, -1);
    t30_set_ecm_capability(s.t30, cfg->ecm);
    t30_set_supported_compressions(s.t30, compressions_for(cfg->compression));
    t30_set_supported_modems(s.t30, supported_modems(cfg->max_rate));
    t30_set_phase_b_handler(s.t30, phase_b_handler, &s);
    t30_set_phase_e_handler(s.t30, phase_e_handler, &s);

    /* Unpaced steps are ~100 us apart; the default 50 us timer slack would stretch every sleep by half. */
    if (!cfg->paced)
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    s.start_us = now_us();
    log_epoch_us = s.start_us;
    last_us = s.start_us;
    last_step_us = s.start_us - cfg->unpaced_gap_us;
    next_tick_us = s.start_us;

    while (!done)
    {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        struct timespec ts;
        int64_t wait_us;
        int64_t now;
        int tx_pending;
        int advance;

        tx_pending = (s.term->t38_fe.timed_step != 0);
        if (!cfg->paced && tx_pending)
            wait_us = last_step_us + cfg->unpaced_gap_us - now_us();
        else if (!cfg->paced)
            wait_us = UNPACED_IDLE_US;
        else
            wait_us = next_tick_us - now_us();
        if (wait_us < 0)
            wait_us = 0;
        ts.tv_sec = wait_us / 1000000;
        ts.tv_nsec = (wait_us % 1000000) * 1000;
        if (ppoll(&pfd, 1, &ts, NULL) > 0 && (pfd.revents & (POLLIN | POLLERR)))
            drain_socket(&s);

        now = now_us();
        if (cfg->paced && now < next_tick_us)
            continue;
        acc_us += now - last_us;
        last_us = now;
        advance = (int) (acc_us / US_PER_SAMPLE);
        acc_us -= (int64_t) advance * US_PER_SAMPLE;
        tx_pending = (s.term->t38_fe.timed_step != 0);
        if (!cfg->paced && tx_pending)
        {
            int jump = s.term->t38_fe.next_tx_samples - s.term->t38_fe.samples;

            if (now - last_step_us < cfg->unpaced_gap_us)
                continue;
            if (jump > advance)
            {
                advance = jump;
                acc_us = 0;
            }
            last_step_us = now;
        }
        if (cfg->paced)
        {
            next_tick_us += PACED_TICK_US;
            if (next_tick_us < now)
                next_tick_us = now + PACED_TICK_US;
        }
        simulated_samples += advance;
        if (t38_terminal_send_timeout(s.term, advance))
            done = 1;

        if (s.phase_e_done && now - s.phase_e_us > AFTER_PHASE_E_US)
            done = 1;
        if (!done && cfg->stop && *cfg->stop)
        {
            if (!s.phase_e_done)
            {
                stopped = 1;
                t30_terminate(s.t30);
            }
            done = 1;
        }
        if (!done && !s.phase_e_done && now - s.start_us > (int64_t) (cfg->timeout_s * 1e6))
        {
            timed_out = 1;
            t30_terminate(s.t30);
            done = 1;
        }
    }

    result->duration_ms = (long) (((s.phase_e_done ? s.phase_e_us : now_us()) - s.start_us) / 1000);
    result->simulated_ms = (long) (simulated_samples / (SAMPLES_PER_SECOND / 1000));
    result->completion_code = s.completion_code;
    result->pages = cfg->sending ? s.stats.pages_tx : s.stats.pages_rx;
    result->bit_rate = s.stats.bit_rate;
    result->ecm = s.stats.error_correcting_mode;
    result->encoding = s.stats.encoding;
    result->x_resolution = s.stats.x_resolution;
    result->y_resolution = s.stats.y_resolution;
    snprintf(result->remote_ident, sizeof(result->remote_ident), "%s", s.remote_ident);
    result->rx_recovered = s.udptl.rx_recovered_redundancy + s.udptl.rx_recovered_fec;
    result->rx_lost = s.udptl.rx_lost;
    result->rx_malformed = s.udptl.rx_malformed;
    if (timed_out)
        snprintf(result->reason, sizeof(result->reason), "timeout after %g s", cfg->timeout_s);
    else if (stopped)
        snprintf(result->reason, sizeof(result->reason), "stopped");
    else if (s.completion_code == -1)
        snprintf(result->reason, sizeof(result->reason), "call ended without phase E");
    else
        snprintf(result->reason, sizeof(result->reason), "%s", t30_completion_code_to_str(s.completion_code));
    result->ok = !timed_out && !stopped && s.phase_e_done && s.completion_code == T30_ERR_OK && result->pages > 0;
    t38_terminal_free(s.term);
    return result->ok ? 0 : -1;
}
