/*
 * sip-peer.c - spandsp-sip-peer: the spandsp T.38 terminal of ../spandsp-peer behind the sofia-sip user agent
 * (NUA), as an independent SIP/T.38 far end for Faxwire's own SIP UA.
 *
 *   spandsp-sip-peer answer --sip-port P [--out FILE.tif | --send FILE.tif] [--media POLICY] [options]
 *   spandsp-sip-peer call sip:USER@HOST:PORT FILE.tif [--sip-port P] [--media POLICY] [options]
 *   spandsp-sip-peer call sip:USER@HOST:PORT --out FILE.tif ...            (the caller receives: polling)
 *
 * sofia's own media (soa) is off: this file writes and reads the SDP itself (t38-sdp.c) and hands the
 * negotiated UDPTL socket and remote address to t38_session_run() on a second thread, while the sofia
 * root keeps serving SIP (re-INVITE retransmissions, BYE). One call per process; one JSON line on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_tagarg.h>

#include <spandsp.h>

#include "peer-cli.h"
#include "t38-sdp.h"
#include "t38-session.h"
#include "udptl.h"

/* Our receive side: datagrams up to UDPTL_MAX_DATAGRAM parse, but advertise what gateways commonly do. */
#define DEFAULT_ADVERTISED_MAX_DATAGRAM 400
#define ADVERTISED_MAX_BUFFER 1800
/* A receiver leaves the BYE to the sender for this long before sending its own: the receiver reaches phase E
   on EOP/MCF, while the sender is still transmitting DCN (about 1.3 s in real time). */
#define RECEIVER_BYE_WAIT_US 3000000
/* After a BYE arrives mid-fax, let the terminal read what is already queued (DCN) before stopping it. */
#define BYE_GRACE_US 1000000
#define TERMINATE_WAIT_US 5000000
/* An INVITE that never got a provisional response cannot be cancelled yet (RFC 3261 §9.1) and may never
   complete: give up waiting sooner. */
#define CANCEL_WAIT_US 1000000

enum role
{
    ROLE_CALL,
    ROLE_ANSWER
};

enum media_policy
{
    MEDIA_AUDIO_THEN_T38,
    MEDIA_T38,
    MEDIA_AUDIO_AND_T38,
    MEDIA_AUDIO_ONLY,
    MEDIA_REFUSE_T38
};

static const char *const media_names[] = { "audio-then-t38", "t38", "audio+t38", "audio-only", "refuse-t38" };

enum invite_kind
{
    INVITE_NONE,
    INVITE_INITIAL,
    INVITE_REINVITE,
    INVITE_REFRESH
};

typedef struct
{
    /* options */
    int role;
    int media;
    const char *target;
    const char *ip;
    int sip_port;
    const char *transport;      /* "udp" or "tcp" */
    char target_buf[512];
    int reinvite_after_ms;
    int refresh_after_ms;       /* 0 = never */
    int advertised_max_datagram;
    int media_lo;               /* media port range, 0 = kernel's choice */
    int media_hi;
    int any_source;
    int sip_trace;
    double timeout_s;
    t38_session_config_t cfg;

    /* sofia */
    su_root_t *root;
    nua_t *nua;
    nua_handle_t *nh;
    int shutdown_done;

    /* media sockets (IPv4) */
    int audio_fd;
    int audio_port;
    int t38_fd;
    int t38_port;
    unsigned long long sdp_session_id;
    unsigned long long sdp_version;
    /* m= lines of the current session, in order (RFC 3264 §8: a new offer keeps their count and order) */
    int session_kinds[T38_SDP_MAX_STREAMS];
    int session_count;

    /* call state */
    int invite_out;             /* INVITE_* of our outstanding INVITE */
    int call_seen;
    int ready_seen;
    int call_up;
    int call_over;
    int bye_sent;
    int cancel_sent;
    int bye_received;
    int64_t reinvite_at_us;     /* 0 = none scheduled */
    int64_t refresh_at_us;
    int64_t hangup_at_us;
    int64_t bye_grace_until_us;
    int64_t bye_sent_us;
    int64_t deadline_us;
    int stopping;

    /* outcome of the signalling */
    const char *initial_offer;  /* what the INVITE carried: audio | t38 | audio+t38 */
    const char *reinvited_by;   /* local | remote | none */
    int glare;                  /* 491 responses to our re-INVITEs */
    int refreshes;              /* our mid-fax re-INVITEs with the unchanged T.38 description, answered 2xx */
    int last_status;            /* last failure status of a request we sent, or that we sent to a request */
    char sip_failure[200];
    t38_sdp_params_t t38;       /* negotiated */
    int t38_negotiated;
    int remote_max_datagram;
    char remote_udptl[80];

    /* fax */
    int fax_started;
    int fax_joined;
    volatile int fax_stop;
    int fax_done;               /* written by the fax thread, read with __atomic */
    pthread_t thread;
    struct sockaddr_storage remote;
    socklen_t remote_len;
    t38_session_result_t fax;
} peer_t;

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    (void) sig;
    stop_signal = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "spandsp-sip-peer: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static void sip_fail(peer_t *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keeps the first failure: later ones are consequences of it. */
static void sip_fail(peer_t *p, int status, const char *fmt, ...)
{
    va_list ap;

    if (status)
        p->last_status = status;
    if (p->sip_failure[0])
        return;
    va_start(ap, fmt);
    vsnprintf(p->sip_failure, sizeof(p->sip_failure), fmt, ap);
    va_end(ap);
    note("%s", p->sip_failure);
}

/* ---- media sockets ---- */

/* A media socket on every address (the far end may reach us on another one than we advertise), on a random
   port of [lo, hi] like a gateway's RTP/UDPTL range; lo == 0 leaves the choice to the kernel. */
static int open_udp(int lo, int hi, int *port_out)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    for (int attempt = 0; attempt < 64; attempt++)
    {
        int fd;

        if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
            return -1;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        a.sin_port = htons((uint16_t) (lo > 0 ? lo + rand() % (hi - lo + 1) : 0));
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *) &a, &len) == 0)
        {
            *port_out = ntohs(a.sin_port);
            return fd;
        }
        close(fd);
        if (lo == 0 || errno != EADDRINUSE)
            return -1;
    }
    return -1;
}

static int free_udp_port(const char *ip)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd;
    int port = -1;

    if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The local address that routes to `host` (IPv4 literal), for Contact and c=. */
static void route_source(const char *host, char *out, size_t cap)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd;

    snprintf(out, cap, "127.0.0.1");
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return;
    if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *) &a, &len) == 0)
        inet_ntop(AF_INET, &a.sin_addr, out, (socklen_t) cap);
    close(fd);
}

/* host part of sip:[user@]host[:port][;params] */
static void uri_host(const char *uri, char *out, size_t cap)
{
    const char *h = strncmp(uri, "sip:", 4) == 0 ? uri + 4 : uri;
    const char *at = strchr(h, '@');
    size_t n;

    if (at)
        h = at + 1;
    n = strcspn(h, ":;>?");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, h, n);
    out[n] = '\0';
}

static int resolve_media(const char *addr, int port, struct sockaddr_storage *out, socklen_t *len)
{
    struct addrinfo hints;
    struct addrinfo *res;
    char service[16];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(addr, service, &hints, &res) != 0 || res == NULL)
        return -1;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* ---- T.38 parameters (T.38 Annex D.2.3 offer/answer rules) ---- */

static int our_ec(const peer_t *p)
{
    if (p->cfg.ec_mode == UDPTL_EC_FEC)
        return T38_SDP_EC_FEC;
    return p->cfg.ec_mode == UDPTL_EC_REDUNDANCY ? T38_SDP_EC_REDUNDANCY : T38_SDP_EC_NONE;
}

static void our_offer_params(const peer_t *p, t38_sdp_params_t *t)
{
    memset(t, 0, sizeof(*t));
    t->version = p->cfg.t38_version;
    t->max_bit_rate = p->cfg.max_rate;
    snprintf(t->rate_management, sizeof(t->rate_management), "transferredTCF");
    t->max_buffer = ADVERTISED_MAX_BUFFER;
    t->max_datagram = p->advertised_max_datagram;
    t->max_ifp = -1;
    t->udp_ec = our_ec(p);
}

/* The answer may lower, never raise, what the offer says: version and rate are the minimum; error correction
   FEC > redundancy > none; rate management stays transferredTCF, the only method T.38 allows over UDP. */
static void answer_params(const peer_t *p, const t38_sdp_params_t *offer, t38_sdp_params_t *t)
{
    int ours = our_ec(p);

    our_offer_params(p, t);
    if (offer->version >= 0 && offer->version < t->version)
        t->version = offer->version;
    if (offer->version < 0)
        t->version = 0;
    if (offer->max_bit_rate > 0 && offer->max_bit_rate < t->max_bit_rate)
        t->max_bit_rate = offer->max_bit_rate;
    if (offer->udp_ec == T38_SDP_EC_FEC && ours == T38_SDP_EC_FEC)
        t->udp_ec = T38_SDP_EC_FEC;
    else if ((offer->udp_ec == T38_SDP_EC_FEC || offer->udp_ec == T38_SDP_EC_REDUNDANCY) && ours != T38_SDP_EC_NONE)
        t->udp_ec = T38_SDP_EC_REDUNDANCY;
    else
        t->udp_ec = T38_SDP_EC_NONE;
}

/* The answer's values from the offerer's side. */
static void accept_answer_params(const peer_t *p, const t38_sdp_params_t *answer, t38_sdp_params_t *t)
{
    our_offer_params(p, t);
    if (answer->version >= 0 && answer->version < t->version)
        t->version = answer->version;
    if (answer->version < 0)
        t->version = 0;
    if (answer->max_bit_rate > 0 && answer->max_bit_rate < t->max_bit_rate)
        t->max_bit_rate = answer->max_bit_rate;
    t->udp_ec = answer->udp_ec == T38_SDP_EC_ABSENT ? T38_SDP_EC_NONE : answer->udp_ec;
    if (answer->rate_management[0])
        snprintf(t->rate_management, sizeof(t->rate_management), "%s", answer->rate_management);
}

static int rate_at_most(int bps)
{
    static const int rates[] = { 14400, 12000, 9600, 7200, 4800, 2400 };

    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (rates[i] <= bps)
            return rates[i];
    return 2400;
}

/* ---- the fax ---- */

static void *fax_thread(void *arg)
{
    peer_t *p = (peer_t *) arg;

    t38_session_run(&p->cfg, p->t38_fd, (struct sockaddr *) &p->remote, p->remote_len, &p->fax);
    __atomic_store_n(&p->fax_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void start_fax(peer_t *p, const t38_sdp_params_t *negotiated, const t38_sdp_params_t *remote,
                      const t38_sdp_stream_t *stream, const char *reinvited_by)
{
    double remaining;

    if (p->fax_started)
        return;
    if (resolve_media(stream->addr, stream->port, &p->remote, &p->remote_len) < 0)
    {
        sip_fail(p, 0, "cannot use the far end's UDPTL address %s port %d", stream->addr, stream->port);
        return;
    }
    p->t38 = *negotiated;
    p->t38_negotiated = 1;
    p->remote_max_datagram = remote->max_datagram;
    snprintf(p->remote_udptl, sizeof(p->remote_udptl), "%s:%d", stream->addr, stream->port);
    p->reinvited_by = reinvited_by;
    p->reinvite_at_us = 0;

    p->cfg.t38_version = negotiated->version;
    p->cfg.max_rate = rate_at_most(negotiated->max_bit_rate);
    /* T38FaxMaxDatagram bounds the datagrams we send (the UDPTL packet; see fax-engines §3.3 on readings). */
    if (remote->max_datagram > 0)
        p->cfg.max_datagram = remote->max_datagram < 32 ? 32
                              : remote->max_datagram > UDPTL_MAX_DATAGRAM ? UDPTL_MAX_DATAGRAM
                                                                          : remote->max_datagram;
    if (negotiated->udp_ec == T38_SDP_EC_FEC)
        p->cfg.ec_mode = UDPTL_EC_FEC;
    else if (negotiated->udp_ec == T38_SDP_EC_REDUNDANCY)
        p->cfg.ec_mode = p->cfg.redundancy > 0 ? UDPTL_EC_REDUNDANCY : UDPTL_EC_NONE;
    else
        p->cfg.ec_mode = UDPTL_EC_NONE;
    /* Only the far end's datagrams count: a connected UDP socket drops any other source, such as a stale call's
       sender still aiming at this port. */
    if (!p->any_source && connect(p->t38_fd, (struct sockaddr *) &p->remote, p->remote_len) < 0)
        note("cannot restrict UDPTL to %s: %s", p->remote_udptl, strerror(errno));
    remaining = (double) (p->deadline_us - now_us()) / 1e6;
    p->cfg.timeout_s = remaining > 1 ? remaining : 1;
    p->cfg.stop = &p->fax_stop;
    const char *how = strcmp(reinvited_by, "none") == 0    ? "in the initial offer/answer"
                      : strcmp(reinvited_by, "local") == 0 ? "our re-INVITE"
                                                           : "the far end's re-INVITE";

    note("T.38 negotiated (%s), UDPTL to %s, version %d, %d bit/s, %s", how, p->remote_udptl, negotiated->version,
         p->cfg.max_rate, t38_sdp_ec_name(negotiated->udp_ec));
    if (pthread_create(&p->thread, NULL, fax_thread, p) != 0)
    {
        sip_fail(p, 0, "cannot start the fax thread");
        return;
    }
    p->fax_started = 1;
    if (p->refresh_after_ms > 0)
        p->refresh_at_us = now_us() + (int64_t) p->refresh_after_ms * 1000;
}

static int fax_running(const peer_t *p)
{
    return p->fax_started && !p->fax_joined;
}

/* ---- SIP ---- */

static void hang_up(peer_t *p)
{
    if (p->nh == NULL || p->call_over || p->bye_sent || p->cancel_sent)
        return;
    if (p->call_up)
    {
        note("sending BYE");
        nua_bye(p->nh, TAG_END());
        p->bye_sent = 1;
    }
    else if (p->invite_out == INVITE_INITIAL)
    {
        note("cancelling the INVITE");
        nua_cancel(p->nh, TAG_END());
        p->cancel_sent = 1;
    }
    else
    {
        return;
    }
    p->bye_sent_us = now_us();
}

/* RFC 3264 §8: the o= version grows with every changed description, and only then (`changed`). */
static int write_sdp(peer_t *p, const t38_sdp_out_stream_t *streams, int count, const t38_sdp_params_t *t38,
                     int changed, char *out, size_t cap)
{
    t38_sdp_local_t local;

    memset(&local, 0, sizeof(local));
    local.ip = p->ip;
    local.session_id = p->sdp_session_id;
    if (changed || p->sdp_version == 0)
        p->sdp_version++;
    local.version = p->sdp_version;
    if (t38)
        local.t38 = *t38;
    return t38_sdp_write(&local, streams, count, out, cap);
}

static void remember_session(peer_t *p, const t38_sdp_out_stream_t *streams, int count)
{
    p->session_count = count;
    for (int i = 0; i < count; i++)
        p->session_kinds[i] = streams[i].port != 0 ? streams[i].kind : T38_SDP_OTHER;
}

static void send_initial_invite(peer_t *p)
{
    t38_sdp_out_stream_t s[2];
    t38_sdp_params_t t;
    char sdp[2048];
    int n = 0;

    memset(s, 0, sizeof(s));
    our_offer_params(p, &t);
    if (p->media != MEDIA_T38)
        s[n++] = (t38_sdp_out_stream_t) { T38_SDP_AUDIO, p->audio_port, -1, NULL };
    if (p->media == MEDIA_T38 || p->media == MEDIA_AUDIO_AND_T38)
        s[n++] = (t38_sdp_out_stream_t) { T38_SDP_IMAGE, p->t38_port, -1, NULL };
    p->initial_offer = p->media == MEDIA_T38 ? "t38" : p->media == MEDIA_AUDIO_AND_T38 ? "audio+t38" : "audio";
    write_sdp(p, s, n, &t, 1, sdp, sizeof(sdp));
    remember_session(p, s, n);
    p->nh = nua_handle(p->nua, p, SIPTAG_TO_STR(p->target), TAG_END());
    if (p->nh == NULL)
    {
        sip_fail(p, 0, "cannot create a call to %s", p->target);
        p->call_over = 1;
        return;
    }
    p->call_seen = 1;
    p->invite_out = INVITE_INITIAL;
    note("calling %s (offer: %s)", p->target, p->initial_offer);
    nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

static void send_t38_reinvite(peer_t *p)
{
    t38_sdp_out_stream_t s[T38_SDP_MAX_STREAMS];
    t38_sdp_params_t t;
    char sdp[2048];
    int image_slot = -1;
    int count = p->session_count > 0 ? p->session_count : 1;

    /* RFC 3264 §8.3: keep every m= line; the image stream takes the slot of a previous image stream, else
       the audio slot (a media-type change of that stream), and every other slot is disabled. */
    for (int i = 0; i < count && image_slot < 0; i++)
        if (p->session_kinds[i] == T38_SDP_IMAGE)
            image_slot = i;
    for (int i = 0; i < count && image_slot < 0; i++)
        if (p->session_kinds[i] == T38_SDP_AUDIO)
            image_slot = i;
    if (image_slot < 0)
        image_slot = 0;
    memset(s, 0, sizeof(s));
    for (int i = 0; i < count; i++)
        s[i] = (t38_sdp_out_stream_t) { i == image_slot ? T38_SDP_IMAGE : T38_SDP_AUDIO,
                                        i == image_slot ? p->t38_port : 0, -1, NULL };
    our_offer_params(p, &t);
    write_sdp(p, s, count, &t, 1, sdp, sizeof(sdp));
    p->invite_out = INVITE_REINVITE;
    p->reinvite_at_us = 0;
    note("sending re-INVITE to T.38");
    nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    remember_session(p, s, count);
}

/* The description in force, unchanged (same o= version): for refreshes and offerless re-INVITEs. */
static void write_current_session(peer_t *p, char *sdp, size_t cap)
{
    t38_sdp_out_stream_t cur[T38_SDP_MAX_STREAMS];
    t38_sdp_params_t t;

    for (int i = 0; i < p->session_count; i++)
        cur[i] = (t38_sdp_out_stream_t) { p->session_kinds[i],
                                          p->session_kinds[i] == T38_SDP_IMAGE   ? p->t38_port
                                          : p->session_kinds[i] == T38_SDP_AUDIO ? p->audio_port
                                                                                 : 0,
                                          -1, NULL };
    our_offer_params(p, &t);
    if (p->t38_negotiated)
        t = p->t38;
    write_sdp(p, cur, p->session_count, &t, 0, sdp, cap);
}

/* A session refresh in the middle of the fax, as session timers do (fax-engines §3.4): the far end must
   answer it without touching the T.38 stream. */
static void send_refresh(peer_t *p)
{
    char sdp[2048];

    p->refresh_at_us = 0;
    write_current_session(p, sdp, sizeof(sdp));
    p->invite_out = INVITE_REFRESH;
    note("sending a refresh re-INVITE with the unchanged T.38 description");
    nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

static int allows_t38(const peer_t *p)
{
    return p->media != MEDIA_AUDIO_ONLY && p->media != MEDIA_REFUSE_T38;
}

static void respond_sdp(peer_t *p, nua_handle_t *nh, const char *sdp)
{
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
                NUTAG_WITH_THIS(p->nua), TAG_END());
}

static void reject(peer_t *p, nua_handle_t *nh, int status, const char *phrase, const char *why)
{
    char warning[200];

    snprintf(warning, sizeof(warning), "399 spandsp-sip-peer \"%s\"", why);
    note("answering %d %s: %s", status, phrase, why);
    p->last_status = status;
    nua_respond(nh, status, phrase, SIPTAG_WARNING_STR(warning), NUTAG_WITH_THIS(p->nua), TAG_END());
}

/* An INVITE or re-INVITE with an offer: answer it according to --media, and start the fax when the answer
   accepts an image stream. */
static void on_invite(peer_t *p, nua_handle_t *nh, const sip_t *sip)
{
    t38_sdp_t offer;
    t38_sdp_out_stream_t s[T38_SDP_MAX_STREAMS];
    t38_sdp_params_t t;
    char err[160];
    char sdp[2048];
    int initial = !p->call_seen;
    int take_image;
    int take_audio;

    if (initial && p->role == ROLE_ANSWER)
    {
        p->nh = nh;
        p->call_seen = 1;
        nua_handle_bind(nh, p);
    }
    else if (nh != p->nh)
    {
        note("refusing a second call");
        nua_respond(nh, SIP_486_BUSY_HERE, NUTAG_WITH_THIS(p->nua), TAG_END());
        return;
    }
    if (sip == NULL || sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
    {
        /* An offerless re-INVITE (RFC 3261 §14.2, e.g. a session refresh) gets the current session again. */
        if (!initial && p->session_count > 0)
        {
            write_current_session(p, sdp, sizeof(sdp));
            respond_sdp(p, nh, sdp);
            return;
        }
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, "an INVITE without SDP offer is not supported");
        if (initial)
            sip_fail(p, 488, "INVITE without SDP offer");
        return;
    }
    if (t38_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &offer, err, sizeof(err)) < 0)
    {
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, err);
        if (initial)
            sip_fail(p, 488, "unusable offer: %s", err);
        return;
    }
    if (initial)
        p->initial_offer = offer.image >= 0 && offer.audio >= 0 ? "audio+t38" : offer.image >= 0 ? "t38" : "audio";

    take_image = offer.image >= 0 && allows_t38(p);
    if (offer.image >= 0 && p->media == MEDIA_REFUSE_T38 && !(initial && offer.audio >= 0))
    {
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, "T.38 refused (--media refuse-t38)");
        return;
    }
    if (p->fax_started && !take_image)
    {
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, "a fax is in progress; only T.38 is accepted");
        return;
    }
    if (take_image && !p->fax_started)
    {
        struct sockaddr_storage probe;
        socklen_t probe_len;
        const t38_sdp_stream_t *image = &offer.streams[offer.image];

        if (resolve_media(image->addr, image->port, &probe, &probe_len) < 0)
        {
            reject(p, nh, SIP_488_NOT_ACCEPTABLE, "no usable IPv4 connection address for the image stream");
            if (initial)
                sip_fail(p, 488, "unusable offer: no IPv4 connection address for the image stream");
            return;
        }
    }
    take_audio = !take_image && offer.audio >= 0;
    if (p->media == MEDIA_T38 && !take_image)
    {
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, "this endpoint only accepts T.38 (--media t38)");
        if (initial)
            sip_fail(p, 488, "the caller offered no T.38 stream");
        return;
    }
    if (!take_image && !take_audio && (initial || p->media != MEDIA_AUDIO_ONLY))
    {
        reject(p, nh, SIP_488_NOT_ACCEPTABLE, "no acceptable stream (needs PCMU/PCMA audio or udptl t38)");
        if (initial)
            sip_fail(p, 488, "no acceptable stream in the offer");
        return;
    }

    memset(s, 0, sizeof(s));
    for (int i = 0; i < offer.count; i++)
    {
        const t38_sdp_stream_t *o = &offer.streams[i];

        if (take_image && i == offer.image)
            s[i] = (t38_sdp_out_stream_t) { T38_SDP_IMAGE, p->t38_port, -1, NULL };
        else if (take_audio && i == offer.audio)
            s[i] = (t38_sdp_out_stream_t) { T38_SDP_AUDIO, p->audio_port, o->pcmu ? 0 : 8, NULL };
        else
            s[i] = (t38_sdp_out_stream_t) { o->kind, 0, -1, o };
    }
    if (take_image)
        answer_params(p, &offer.t38, &t);
    else
        our_offer_params(p, &t);
    if (p->fax_started && take_image)
    {
        /* A refresh of the running T.38 session: the same answer again, never a renegotiation mid-page
           (fax-engines §3.4). */
        t = p->t38;
    }
    write_sdp(p, s, offer.count, &t, !(p->fax_started && take_image), sdp, sizeof(sdp));
    remember_session(p, s, offer.count);
    if (!take_image && offer.image >= 0)
        note("declining the T.38 stream (--media %s)", media_names[p->media]);
    respond_sdp(p, nh, sdp);
    /* A re-INVITE of ours that crossed this one has been answered 491 by sofia; the far end's offer wins. */
    if (take_image && !p->fax_started)
        start_fax(p, &t, &offer.t38, &offer.streams[offer.image], initial ? "none" : "remote");
}

static void on_invite_response(peer_t *p, int status, const char *phrase, const sip_t *sip)
{
    t38_sdp_t answer;
    t38_sdp_params_t t;
    char err[160];
    int kind = p->invite_out;

    if (status < 200)
        return;
    p->invite_out = INVITE_NONE;
    if (kind == INVITE_REFRESH)
    {
        if (status >= 300)
            p->last_status = status;
        else if (sip && sip->sip_payload
                 && t38_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &answer, err, sizeof(err)) == 0
                 && answer.image >= 0)
            p->refreshes++;
        note("refresh answered %d %s", status, phrase);
        return;
    }
    if (status >= 300)
    {
        if (kind == INVITE_INITIAL)
        {
            sip_fail(p, status, "INVITE failed: %d %s", status, phrase);
            return;
        }
        if (status == 491)
        {
            /* RFC 3261 §14.1: the Call-ID owner (the caller) retries after 2.1-4 s, the other side after 0-2 s;
               meanwhile the far end's own re-INVITE will usually arrive and be accepted. */
            int64_t backoff_ms = p->role == ROLE_CALL ? 2100 + rand() % 1900 : rand() % 2000;

            p->glare++;
            p->last_status = 491;
            if (!p->fax_started)
            {
                note("re-INVITE glare (491), retrying in %lld ms unless the far end's offer comes first",
                     (long long) backoff_ms);
                p->reinvite_at_us = now_us() + backoff_ms * 1000;
            }
            return;
        }
        if (p->fax_started)
            return;
        sip_fail(p, status, "T.38 refused by the far end: re-INVITE answered %d %s", status, phrase);
        p->hangup_at_us = now_us();
        return;
    }
    if (p->fax_started)
        return;
    if (sip == NULL || sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
    {
        sip_fail(p, 0, "%d answer without SDP", status);
        p->hangup_at_us = now_us();
        return;
    }
    if (t38_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &answer, err, sizeof(err)) < 0)
    {
        sip_fail(p, 0, "unusable SDP answer: %s", err);
        p->hangup_at_us = now_us();
        return;
    }
    if (answer.image >= 0)
    {
        accept_answer_params(p, &answer.t38, &t);
        start_fax(p, &t, &answer.t38, &answer.streams[answer.image], kind == INVITE_INITIAL ? "none" : "local");
        return;
    }
    if (kind == INVITE_REINVITE)
    {
        sip_fail(p, 0, "the far end declined T.38: its answer to the re-INVITE has no usable m=image stream");
        p->hangup_at_us = now_us();
        return;
    }
    if (answer.audio < 0)
    {
        sip_fail(p, 0, "the answer to the INVITE accepts no stream");
        p->hangup_at_us = now_us();
        return;
    }
    note("call up in audio; waiting %d ms for the far end's T.38 re-INVITE", p->reinvite_after_ms);
}

static void on_state(peer_t *p, nua_handle_t *nh, int state)
{
    if (nh != p->nh)
        return;
    if (state == nua_callstate_ready)
    {
        p->call_up = 1;
        if (!p->ready_seen)
        {
            int wants = p->role == ROLE_CALL ? p->media != MEDIA_T38 : p->media == MEDIA_AUDIO_THEN_T38;

            p->ready_seen = 1;
            if (wants && !p->fax_started)
                p->reinvite_at_us = now_us() + (int64_t) p->reinvite_after_ms * 1000;
        }
    }
    else if (state == nua_callstate_terminated)
    {
        p->call_up = 0;
        p->call_over = 1;
    }
}

static void event_cb(nua_event_t event, int status, char const *phrase, nua_t *nua, nua_magic_t *magic,
                     nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip, tagi_t tags[])
{
    peer_t *p = (peer_t *) magic;

    (void) nua;
    (void) hmagic;
    switch (event)
    {
    case nua_i_invite:
        on_invite(p, nh, sip);
        break;
    case nua_r_invite:
        if (nh == p->nh)
            on_invite_response(p, status, phrase, sip);
        break;
    case nua_i_state:
    {
        int state = -1;

        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        on_state(p, nh, state);
        break;
    }
    case nua_i_bye:
        if (nh == p->nh)
        {
            note("BYE received");
            p->bye_received = 1;
            p->bye_grace_until_us = now_us() + BYE_GRACE_US;
            if (!p->fax_started)
                sip_fail(p, 0, "the far end hung up (BYE) before T.38");
        }
        break;
    case nua_i_cancel:
        if (nh == p->nh)
            sip_fail(p, 487, "the caller cancelled the call");
        break;
    case nua_r_bye:
    case nua_r_cancel:
        break;
    case nua_r_shutdown:
        if (status >= 200)
            p->shutdown_done = 1;
        break;
    default:
        if (p->sip_trace)
            note("event %s %d %s", nua_event_name(event), status, phrase ? phrase : "");
        break;
    }
}

/* ---- main loop ---- */

static void tick(peer_t *p)
{
    int64_t now = now_us();

    if (fax_running(p) && __atomic_load_n(&p->fax_done, __ATOMIC_ACQUIRE))
    {
        pthread_join(p->thread, NULL);
        p->fax_joined = 1;
        note("fax ended: %s", p->fax.reason);
        /* The side that sent DCN hangs up first; the receiver gives it a moment. */
        p->hangup_at_us = now + (p->cfg.sending || !p->fax.ok ? 0 : RECEIVER_BYE_WAIT_US);
    }
    if (stop_signal && !p->stopping)
    {
        p->stopping = 1;
        sip_fail(p, 0, "stopped");
        if (fax_running(p))
            p->fax_stop = 1;
        else
            p->hangup_at_us = now;
    }
    if (!p->stopping && !p->fax_started && !p->call_over && now > p->deadline_us)
    {
        p->stopping = 1;
        sip_fail(p, 0, "timeout: no T.38 session within %g s", p->timeout_s);
        p->hangup_at_us = now;
    }
    if (p->bye_received && fax_running(p) && now > p->bye_grace_until_us)
        p->fax_stop = 1;
    if (p->reinvite_at_us && now >= p->reinvite_at_us && p->call_up && !p->fax_started && p->invite_out == INVITE_NONE
        && !p->bye_received && !p->bye_sent && !p->cancel_sent)
        send_t38_reinvite(p);
    if (p->refresh_at_us && now >= p->refresh_at_us && fax_running(p) && p->call_up && p->invite_out == INVITE_NONE
        && !p->bye_received && !p->bye_sent)
        send_refresh(p);
    if (p->sip_failure[0] && !fax_running(p) && !p->hangup_at_us)
        p->hangup_at_us = now;
    if (p->hangup_at_us && now >= p->hangup_at_us && !fax_running(p))
        hang_up(p);
}

static int finished(const peer_t *p, int64_t now)
{
    if (fax_running(p))
        return 0;
    if (p->role == ROLE_ANSWER && !p->call_seen)
        return stop_signal || now > p->deadline_us;
    if (p->call_over || p->nh == NULL)
        return 1;
    if (p->bye_sent && now - p->bye_sent_us > TERMINATE_WAIT_US)
        return 1;
    if (p->cancel_sent && now - p->bye_sent_us > CANCEL_WAIT_US)
        return 1;
    return 0;
}

/* ---- output ---- */

static void print_result(const peer_t *p, int ok, const char *reason, int with_sip)
{
    FILE *f = stdout;

    peer_print_session_fields(f, ok, reason, p->fax_started ? p->fax.completion_code : -1, &p->fax);
    if (!with_sip)
    {
        fputs(",\"sip\":null}\n", f);
        fflush(f);
        return;
    }
    fprintf(f, ",\"sip\":{\"role\":\"%s\",\"media\":\"%s\",\"initialOffer\":", p->role == ROLE_CALL ? "call" : "answer",
            media_names[p->media]);
    if (p->initial_offer)
        peer_json_string(f, p->initial_offer);
    else
        fputs("null", f);
    fprintf(f, ",\"reinvitedBy\":");
    if (p->reinvited_by)
        peer_json_string(f, p->reinvited_by);
    else
        fputs("null", f);
    fprintf(f, ",\"glare\":%d,\"refreshes\":%d,\"lastStatus\":%d,\"byeBy\":\"%s\",\"remoteUdptl\":", p->glare,
            p->refreshes, p->last_status,
            p->bye_received ? "remote" : p->bye_sent ? "local" : "none");
    peer_json_string(f, p->remote_udptl);
    fputs(",\"t38\":", f);
    if (p->t38_negotiated)
    {
        fprintf(f, "{\"version\":%d,\"maxBitRate\":%d,\"rateManagement\":", p->t38.version, p->t38.max_bit_rate);
        peer_json_string(f, p->t38.rate_management);
        fprintf(f, ",\"udpEc\":\"%s\",\"remoteMaxDatagram\":%d}", t38_sdp_ec_name(p->t38.udp_ec),
                p->remote_max_datagram);
    }
    else
    {
        fputs("null", f);
    }
    fputs("}}\n", f);
    fflush(f);
}

static void fail_json(const char *reason)
{
    peer_t p;

    memset(&p, 0, sizeof(p));
    print_result(&p, 0, reason, 0);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: spandsp-sip-peer answer --sip-port P [--out FILE.tif | --send FILE.tif] [options]\n"
            "       spandsp-sip-peer call sip:USER@HOST:PORT (FILE.tif | --out FILE.tif) [--sip-port P] [options]\n"
            "SIP options:\n"
            "  --media M                 answer: audio-then-t38 (default) | t38 | audio-only | refuse-t38\n"
            "                            call:   audio-then-t38 (default) | t38 | audio+t38\n"
            "  --reinvite-after-ms N     delay of our own T.38 re-INVITE once the call is up in audio\n"
            "                            (answer: 0, call: 5000)\n"
            "  --refresh-after-ms N      N ms into the fax, re-INVITE with the unchanged T.38 description\n"
            "  --ip ADDR                 IPv4 address for SIP and SDP (answer: 127.0.0.1; call: route to HOST)\n"
            "  --sip-port P              port for SIP; 0 = any free one (the default for call)\n"
            "  --transport udp|tcp       SIP transport (default udp)\n"
            "  --media-ports LO-HI|any   RTP/UDPTL port range (default 20000-32767; any = kernel's choice)\n"
            "  --any-source              accept UDPTL from any address, not only the one in the far end's SDP\n"
            "  --sip-trace               print SIP messages on stderr\n"
            "T.30/T.38 options (as spandsp-peer):\n"
            "  --ecm on|off  --compression mh|mr|mmr  --max-rate N  --ident ID  --t38-version V\n"
            "  --redundancy N  --fec SPAN[:ENTRIES]  --max-datagram N (advertised, default 400)\n"
            "  --loss PCT --seed N  --pace realtime|none  --timeout-s S (whole call, default 300)  --verbose\n"
            "stdout: one JSON line with the outcome; exit 0 only if the fax succeeded, 2 on bad arguments.\n");
}

static int parse_media(const char *v, int role)
{
    for (int i = 0; i < (int) (sizeof(media_names) / sizeof(media_names[0])); i++)
    {
        if (strcmp(v, media_names[i]) != 0)
            continue;
        if (role == ROLE_CALL && (i == MEDIA_AUDIO_ONLY || i == MEDIA_REFUSE_T38))
            return -1;
        if (role == ROLE_ANSWER && i == MEDIA_AUDIO_AND_T38)
            return -1;
        return i;
    }
    return -1;
}

static int bad_arg(const char *arg)
{
    char err[200];

    snprintf(err, sizeof(err), "bad or missing value for %s", arg);
    note("%s", err);
    fail_json(err);
    return 2;
}

int main(int argc, char *argv[])
{
    static peer_t peer;
    peer_t *p = &peer;
    const char *file = NULL;
    const char *out = NULL;
    const char *send = NULL;
    char ip_buf[64];
    char url[200];
    char from[200];
    char err[320];
    int i;
    int ok;
    int sip_port_set = 0;
    int auto_port;
    int64_t end_wait;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    t38_session_config_defaults(&p->cfg);
    p->cfg.ident = "spandsp-sip-peer";
    p->timeout_s = 300;
    p->advertised_max_datagram = DEFAULT_ADVERTISED_MAX_DATAGRAM;
    p->media = MEDIA_AUDIO_THEN_T38;
    p->transport = "udp";
    /* Below Linux's ephemeral range (32768-60999): a test harness that takes "free" ports from the kernel and
       binds them later can never be handed one of ours, nor send its packets into our call. */
    p->media_lo = 20000;
    p->media_hi = 32767;
    p->audio_fd = p->t38_fd = -1;
    if (strcmp(argv[1], "call") == 0)
    {
        p->role = ROLE_CALL;
        p->reinvite_after_ms = 5000;
    }
    else if (strcmp(argv[1], "answer") == 0)
    {
        p->role = ROLE_ANSWER;
        p->reinvite_after_ms = 0;
    }
    else
    {
        usage(stderr);
        fail_json("first argument must be call or answer");
        return 2;
    }
    for (i = 2; i < argc; i++)
    {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int taken;

#define NEED_VALUE                                                                                                 \
    do                                                                                                             \
    {                                                                                                              \
        if (v == NULL)                                                                                             \
            return bad_arg(a);                                                                                     \
        i++;                                                                                                       \
    } while (0)

        if ((taken = peer_session_option(&p->cfg, argc, argv, &i)) != 0)
        {
            if (taken < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--sip-port") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 0, 65535, &p->sip_port) < 0)
                return bad_arg(a);
            sip_port_set = 1;
        }
        else if (strcmp(a, "--media") == 0)
        {
            NEED_VALUE;
            if ((p->media = parse_media(v, p->role)) < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--reinvite-after-ms") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 0, 600000, &p->reinvite_after_ms) < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--refresh-after-ms") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 1, 600000, &p->refresh_after_ms) < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--ip") == 0)
        {
            struct in_addr probe;

            NEED_VALUE;
            if (inet_pton(AF_INET, v, &probe) != 1)
                return bad_arg(a);
            p->ip = v;
        }
        else if (strcmp(a, "--transport") == 0)
        {
            NEED_VALUE;
            if (strcmp(v, "udp") != 0 && strcmp(v, "tcp") != 0)
                return bad_arg(a);
            p->transport = v;
        }
        else if (strcmp(a, "--media-ports") == 0)
        {
            NEED_VALUE;
            if (strcmp(v, "any") == 0)
                p->media_lo = p->media_hi = 0;
            else if (sscanf(v, "%d-%d", &p->media_lo, &p->media_hi) != 2 || p->media_lo < 1024
                     || p->media_hi > 65535 || p->media_hi <= p->media_lo)
                return bad_arg(a);
        }
        else if (strcmp(a, "--any-source") == 0)
        {
            p->any_source = 1;
        }
        else if (strcmp(a, "--sip-trace") == 0)
        {
            p->sip_trace = 1;
        }
        else if (strcmp(a, "--out") == 0)
        {
            NEED_VALUE;
            out = v;
        }
        else if (strcmp(a, "--send") == 0 && p->role == ROLE_ANSWER)
        {
            NEED_VALUE;
            send = v;
        }
        else if (strcmp(a, "--t38-version") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 0, 3, &p->cfg.t38_version) < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--max-datagram") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 32, UDPTL_MAX_DATAGRAM, &p->advertised_max_datagram) < 0)
                return bad_arg(a);
        }
        else if (strcmp(a, "--timeout-s") == 0)
        {
            NEED_VALUE;
            if (peer_parse_double(v, 0, 86400, &p->timeout_s) < 0)
                return bad_arg(a);
        }
        else if (a[0] != '-' && p->role == ROLE_CALL && p->target == NULL)
        {
            p->target = a;
        }
        else if (a[0] != '-' && p->role == ROLE_CALL && file == NULL)
        {
            file = a;
        }
        else
        {
            snprintf(err, sizeof(err), "unknown argument: %s", a);
            note("%s", err);
            usage(stderr);
            fail_json(err);
            return 2;
        }
    }
    if (p->role == ROLE_CALL)
    {
        if (p->target == NULL || strncmp(p->target, "sip:", 4) != 0 || (file == NULL) == (out == NULL))
        {
            usage(stderr);
            fail_json("call needs sip:USER@HOST:PORT and either FILE.tif or --out FILE.tif");
            return 2;
        }
        p->cfg.sending = file != NULL;
        p->cfg.file = file ? file : out;
        p->cfg.caller = 1;
    }
    else
    {
        if (!sip_port_set || (send == NULL) == (out == NULL))
        {
            usage(stderr);
            fail_json("answer needs --sip-port and either --out FILE.tif or --send FILE.tif");
            return 2;
        }
        p->cfg.sending = send != NULL;
        p->cfg.file = send ? send : out;
        p->cfg.caller = 0;
    }
    if (p->cfg.compression == T38_SESSION_MMR && !p->cfg.ecm)
        p->cfg.compression = T38_SESSION_MR;  /* T.6 coding only with ECM (T.30 Table 2, DIS bit 31) */
    p->cfg.log_tag = p->cfg.sending ? "tx" : "rx";
    if (p->cfg.sending && access(p->cfg.file, R_OK) != 0)
    {
        snprintf(err, sizeof(err), "cannot read %s: %s", p->cfg.file, strerror(errno));
        fail_json(err);
        return 1;
    }
    if (p->ip == NULL)
    {
        if (p->role == ROLE_CALL)
        {
            char host[128];

            uri_host(p->target, host, sizeof(host));
            route_source(host, ip_buf, sizeof(ip_buf));
        }
        else
        {
            snprintf(ip_buf, sizeof(ip_buf), "127.0.0.1");
        }
        p->ip = ip_buf;
    }
    auto_port = p->sip_port == 0;
    srand((unsigned int) (now_us() ^ getpid()));
    if ((p->audio_fd = open_udp(p->media_lo, p->media_hi, &p->audio_port)) < 0
        || (p->t38_fd = open_udp(p->media_lo, p->media_hi, &p->t38_port)) < 0)
    {
        snprintf(err, sizeof(err), "cannot open media sockets: %s", strerror(errno));
        fail_json(err);
        return 1;
    }
    p->sdp_session_id = (unsigned long long) time(NULL) * 1000 + (unsigned long long) (rand() % 1000);
    p->sdp_version = 0;
    p->deadline_us = now_us() + (int64_t) (p->timeout_s * 1e6);

    if (p->sip_trace)
        setenv("TPORT_LOG", "1", 1);
    su_init();
    p->root = su_root_create(p);
    /* Only one transport is bound, so the request must go over it. */
    if (p->role == ROLE_CALL && strstr(p->target, "transport=") == NULL)
    {
        snprintf(p->target_buf, sizeof(p->target_buf), "%s;transport=%s", p->target, p->transport);
        p->target = p->target_buf;
    }
    /* --sip-port 0: a random port of the media range (see --media-ports) or, with `any`, one the kernel had
       free a moment ago; either may be taken before sofia binds it, so try a few. */
    url[0] = '\0';
    for (int attempt = 0; p->root && p->nua == NULL && attempt < (auto_port ? 16 : 1); attempt++)
    {
        if (auto_port)
            p->sip_port = p->media_lo > 0 ? p->media_lo + rand() % (p->media_hi - p->media_lo + 1)
                                          : free_udp_port(p->ip);
        if (p->sip_port <= 0)
            break;
        snprintf(url, sizeof(url), "sip:%s:%d;transport=%s", p->ip, p->sip_port, p->transport);
        snprintf(from, sizeof(from), "<sip:spandsp-sip-peer@%s:%d>", p->ip, p->sip_port);
        p->nua = nua_create(p->root, event_cb, p, NUTAG_URL(url), SIPTAG_FROM_STR(from), NUTAG_MEDIA_ENABLE(0),
                            NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_AUTOALERT(0),
                            NUTAG_SESSION_REFRESHER(nua_remote_refresher), TAG_END());
    }
    if (p->nua == NULL)
    {
        snprintf(err, sizeof(err), "cannot start the SIP stack on %s", url);
        fail_json(err);
        return 1;
    }
    note("listening on sip port %d", p->sip_port);
    if (p->role == ROLE_CALL)
        send_initial_invite(p);

    while (!finished(p, now_us()))
    {
        su_root_step(p->root, 5);
        tick(p);
    }

    /* A shutdown with a transaction still pending (an unanswered INVITE) would wait for timer B (32 s);
       the process exit releases everything anyway. */
    nua_shutdown(p->nua);
    end_wait = now_us() + (p->call_over ? 2000000 : 300000);
    while (!p->shutdown_done && now_us() < end_wait)
        su_root_step(p->root, 20);
    if (p->shutdown_done)
    {
        nua_destroy(p->nua);
        su_root_destroy(p->root);
        su_deinit();
    }
    close(p->audio_fd);
    close(p->t38_fd);

    if (p->fax_started)
    {
        const char *reason = p->fax.reason;

        ok = p->fax.ok;
        if (!ok && p->bye_received && strcmp(p->fax.reason, "stopped") == 0)
            reason = "the far end hung up (BYE) during the fax";
        else if (!ok && stop_signal && strcmp(p->fax.reason, "stopped") == 0)
            reason = "stopped";
        print_result(p, ok, reason, 1);
    }
    else
    {
        ok = 0;
        if (!p->sip_failure[0])
            snprintf(p->sip_failure, sizeof(p->sip_failure), "%s",
                     stop_signal ? "stopped" : "the call ended before T.38");
        print_result(p, 0, p->sip_failure, 1);
    }
    return ok ? 0 : 1;
}
