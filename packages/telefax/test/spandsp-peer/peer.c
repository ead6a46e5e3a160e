/*
 * peer.c - spandsp-peer: a spandsp T.38 terminal over UDP/UDPTL, used as the reference far end in tests.
 *
 *   spandsp-peer send FILE.tif --local-port P --remote HOST:PORT [options]
 *   spandsp-peer receive --out FILE.tif --local-port P --remote HOST:PORT [options]
 *
 * Prints one JSON line with the outcome on stdout; spandsp logging (--verbose) goes to stderr.
 * Exit status 0 only when the fax completed (phase E OK, at least one page).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spandsp.h>

#include "peer-cli.h"
#include "t38-session.h"
#include "udptl.h"

static volatile int stop_requested;

static void on_stop_signal(int sig)
{
    (void) sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: spandsp-peer send FILE.tif --local-port P --remote HOST:PORT [options]\n"
            "       spandsp-peer receive --out FILE.tif --local-port P --remote HOST:PORT [options]\n"
            "options:\n"
            "  --ecm on|off              error correction mode (default on)\n"
            "  --compression mh|mr|mmr   best coding offered/used (default mmr; mmr needs ECM)\n"
            "  --max-rate N              14400|12000|9600|7200|4800|2400 (default 14400)\n"
            "  --ident ID                our TSI/CSI (default \"spandsp-peer\")\n"
            "  --caller | --answerer     role (default: sender calls, receiver answers)\n"
            "  --loss PCT --seed N       drop PCT %% of outgoing datagrams, seeded (default 0, 1)\n"
            "  --redundancy N            secondary IFPs per datagram (default 3; 0 = none)\n"
            "  --fec SPAN[:ENTRIES]      send parity FEC instead of redundancy (e.g. 3:3)\n"
            "  --max-datagram N          far end's UDPTL datagram limit (default 1400)\n"
            "  --t38-version V           0..3 (default 0)\n"
            "  --pace realtime|none      wall-clock pacing, or skip our own transmit waits (default realtime)\n"
            "  --timeout-s S             backstop for the whole call (default 180)\n"
            "  --verbose                 spandsp T.30/T.38 logging on stderr\n"
            "stdout: one JSON line with the outcome; exit 0 only if the fax succeeded.\n"
            "\n"
            "UDPTL vectors: spandsp-peer udptl-encode [--redundancy N | --fec S:E] IFP-HEX...\n"
            "               spandsp-peer udptl-decode [--t38-version V] DATAGRAM-HEX...\n");
}

static int parse_hex(const char *hex, uint8_t *out, int max)
{
    int n = 0;

    while (*hex)
    {
        unsigned int v;

        if (*hex == ' ' || *hex == ':' || *hex == '-')
        {
            hex++;
            continue;
        }
        if (n >= max || sscanf(hex, "%2x", &v) != 1 || hex[1] == '\0')
            return -1;
        out[n++] = (uint8_t) v;
        hex += 2;
    }
    return n;
}

static void print_hex(const uint8_t *buf, int len)
{
    for (int i = 0; i < len; i++)
        printf("%s%02x", i ? " " : "", buf[i]);
}

static void print_decoded_ifp(void *user_data, const uint8_t *ifp, int len, uint16_t seq)
{
    (void) user_data;
    printf("%u: ", seq);
    print_hex(ifp, len);
    printf("\n");
}

/* UDPTL vectors for cross-checking other implementations:
     udptl-encode [--redundancy N | --fec S:E] IFP-HEX...      one datagram per IFP, seq from 0
     udptl-decode [--t38-version V] DATAGRAM-HEX...            "seq: ifp" per delivered/recovered IFP */
static int udptl_tool(int argc, char *argv[])
{
    udptl_state_t u;
    int encode = strcmp(argv[1], "udptl-encode") == 0;
    int ec = UDPTL_EC_NONE;
    int redundancy = 0;
    int span = 3;
    int entries = 3;
    int version = 0;
    int i = 2;

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2)
    {
        if (strcmp(argv[i], "--redundancy") == 0
            && peer_parse_int(argv[i + 1], 0, UDPTL_MAX_REDUNDANCY, &redundancy) == 0)
            ec = redundancy > 0 ? UDPTL_EC_REDUNDANCY : UDPTL_EC_NONE;
        else if (strcmp(argv[i], "--fec") == 0 && sscanf(argv[i + 1], "%d:%d", &span, &entries) == 2)
            ec = UDPTL_EC_FEC;
        else if (strcmp(argv[i], "--t38-version") == 0 && peer_parse_int(argv[i + 1], 0, 4, &version) == 0)
            ;
        else
        {
            fprintf(stderr, "spandsp-peer: bad option %s\n", argv[i]);
            return 2;
        }
    }
    udptl_init(&u, ec, redundancy, span, entries, UDPTL_MAX_DATAGRAM, print_decoded_ifp, NULL);
    u.ifp_version = version;
    for (; i < argc; i++)
    {
        uint8_t in[UDPTL_MAX_DATAGRAM];
        uint8_t out[UDPTL_MAX_DATAGRAM];
        int n = parse_hex(argv[i], in, sizeof(in));

        if (n < 0)
        {
            fprintf(stderr, "spandsp-peer: bad hex %s\n", argv[i]);
            return 2;
        }
        if (encode)
        {
            int len = udptl_build(&u, in, n, out, sizeof(out));

            if (len < 0)
            {
                fprintf(stderr, "spandsp-peer: cannot encode %s\n", argv[i]);
                return 1;
            }
            print_hex(out, len);
            printf("\n");
        }
        else if (udptl_rx(&u, in, n) < 0)
        {
            printf("malformed\n");
        }
    }
    return 0;
}

static int parse_remote(const char *spec, struct sockaddr_storage *addr, socklen_t *len)
{
    char host[256];
    const char *colon;
    const char *port;
    struct addrinfo hints;
    struct addrinfo *res;
    size_t hl;

    if (spec[0] == '[')
    {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        hl = (size_t) (close - spec - 1);
        if (hl >= sizeof(host))
            return -1;
        memcpy(host, spec + 1, hl);
        port = close + 2;
    }
    else
    {
        if ((colon = strrchr(spec, ':')) == NULL)
            return -1;
        hl = (size_t) (colon - spec);
        if (hl >= sizeof(host))
            return -1;
        memcpy(host, spec, hl);
        port = colon + 1;
    }
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return -1;
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_socket(int family, int port)
{
    int fd;

    if ((fd = socket(family, SOCK_DGRAM, 0)) < 0)
        return -1;
    if (family == AF_INET6)
    {
        struct sockaddr_in6 a;
        int off = 0;

        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        memset(&a, 0, sizeof(a));
        a.sin6_family = AF_INET6;
        a.sin6_port = htons((uint16_t) port);
        a.sin6_addr = in6addr_any;
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0)
        {
            close(fd);
            return -1;
        }
    }
    else
    {
        struct sockaddr_in a;

        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t) port);
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0)
        {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void print_result(const t38_session_result_t *r)
{
    peer_print_session_fields(stdout, r->ok, r->reason, r->completion_code, r);
    fputs("}\n", stdout);
    fflush(stdout);
}

static void fail_json(const char *reason)
{
    t38_session_result_t r;

    memset(&r, 0, sizeof(r));
    r.completion_code = -1;
    snprintf(r.reason, sizeof(r.reason), "%s", reason);
    print_result(&r);
}

int main(int argc, char *argv[])
{
    t38_session_config_t cfg;
    t38_session_result_t result;
    struct sockaddr_storage remote;
    socklen_t remote_len = 0;
    const char *remote_spec = NULL;
    const char *file = NULL;
    int local_port = -1;
    int role_set = 0;
    int fd;
    int i;
    char err[200];

    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT end the call but still print the JSON result. */
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);
    t38_session_config_defaults(&cfg);
    cfg.stop = &stop_requested;
    cfg.ident = "spandsp-peer";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "udptl-encode") == 0 || strcmp(argv[1], "udptl-decode") == 0)
        return udptl_tool(argc, argv);
    if (strcmp(argv[1], "send") == 0)
        cfg.sending = 1;
    else if (strcmp(argv[1], "receive") == 0)
        cfg.sending = 0;
    else
    {
        usage(stderr);
        return 2;
    }
    for (i = 2; i < argc; i++)
    {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        int taken;

#define NEED_VALUE                                                                                                 \
    do                                                                                                             \
    {                                                                                                              \
        if (v == NULL)                                                                                             \
            goto bad_arg;                                                                                          \
        i++;                                                                                                       \
    } while (0)

        if ((taken = peer_session_option(&cfg, argc, argv, &i)) != 0)
        {
            if (taken < 0)
                goto bad_arg;
        }
        else if (strcmp(a, "--local-port") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 0, 65535, &local_port) < 0)
                goto bad_arg;
        }
        else if (strcmp(a, "--remote") == 0)
        {
            NEED_VALUE;
            remote_spec = v;
        }
        else if (strcmp(a, "--out") == 0)
        {
            NEED_VALUE;
            file = v;
        }
        else if (strcmp(a, "--caller") == 0)
        {
            cfg.caller = 1;
            role_set = 1;
        }
        else if (strcmp(a, "--answerer") == 0)
        {
            cfg.caller = 0;
            role_set = 1;
        }
        else if (strcmp(a, "--max-datagram") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 32, UDPTL_MAX_DATAGRAM, &cfg.max_datagram) < 0)
                goto bad_arg;
        }
        else if (strcmp(a, "--t38-version") == 0)
        {
            NEED_VALUE;
            if (peer_parse_int(v, 0, 4, &cfg.t38_version) < 0)
                goto bad_arg;
        }
        else if (strcmp(a, "--timeout-s") == 0)
        {
            NEED_VALUE;
            if (peer_parse_double(v, 0, 86400, &cfg.timeout_s) < 0)
                goto bad_arg;
        }
        else if (a[0] != '-' && cfg.sending && file == NULL)
        {
            file = a;
        }
        else
        {
            snprintf(err, sizeof(err), "unknown argument: %s", a);
            fprintf(stderr, "spandsp-peer: %s\n", err);
            usage(stderr);
            fail_json(err);
            return 2;
        }
        continue;
    bad_arg:
        snprintf(err, sizeof(err), "bad or missing value for %s", a);
        fprintf(stderr, "spandsp-peer: %s\n", err);
        fail_json(err);
        return 2;
    }
    if (!role_set)
        cfg.caller = cfg.sending;
    cfg.log_tag = cfg.sending ? "tx" : "rx";
    if (file == NULL || local_port < 0 || remote_spec == NULL)
    {
        fprintf(stderr, "spandsp-peer: %s, --local-port and --remote are required\n",
                cfg.sending ? "FILE.tif" : "--out FILE.tif");
        usage(stderr);
        fail_json("missing required arguments");
        return 2;
    }
    if (cfg.compression == T38_SESSION_MMR && !cfg.ecm)
        cfg.compression = T38_SESSION_MR;  /* T.6 coding is only allowed with ECM (T.30 Table 2, DIS bit 31) */
    cfg.file = file;
    if (cfg.sending && access(file, R_OK) != 0)
    {
        snprintf(err, sizeof(err), "cannot read %s: %s", file, strerror(errno));
        fail_json(err);
        return 1;
    }
    if (parse_remote(remote_spec, &remote, &remote_len) < 0)
    {
        snprintf(err, sizeof(err), "bad --remote %s", remote_spec);
        fail_json(err);
        return 2;
    }
    if ((fd = open_socket(remote.ss_family, local_port)) < 0)
    {
        snprintf(err, sizeof(err), "cannot bind UDP port %d: %s", local_port, strerror(errno));
        fail_json(err);
        return 1;
    }
    /* Tests start the caller first and wait for this line, so the answerer's first DIS is not lost. */
    fprintf(stderr, "spandsp-peer: listening on udp port %d\n", local_port);
    fflush(stderr);
    t38_session_run(&cfg, fd, (struct sockaddr *) &remote, remote_len, &result);
    close(fd);
    print_result(&result);
    return result.ok ? 0 : 1;
}
