/*
 * peer-cli.c - see peer-cli.h.
 */
#include "peer-cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "udptl.h"

int peer_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || end == s || v < lo || v > hi)
        return -1;
    *out = (int) v;
    return 0;
}

int peer_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*end != '\0' || end == s || !(v > lo) || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int is_fax_rate(int bps)
{
    return bps == 14400 || bps == 12000 || bps == 9600 || bps == 7200 || bps == 4800 || bps == 2400;
}

/* SPAN[:ENTRIES], ENTRIES 3 if not given; span × entries must fit the receive ring. */
static int parse_fec(const char *v, t38_session_config_t *cfg)
{
    int span;
    int entries = 3;
    char buf[32];
    char *colon;

    snprintf(buf, sizeof(buf), "%s", v);
    if ((colon = strchr(buf, ':')) != NULL)
    {
        *colon = '\0';
        if (peer_parse_int(colon + 1, 1, UDPTL_MAX_FEC_ENTRIES, &entries) < 0)
            return -1;
    }
    if (peer_parse_int(buf, 1, UDPTL_MAX_FEC_SPAN, &span) < 0 || span * entries >= UDPTL_RING)
        return -1;
    cfg->ec_mode = UDPTL_EC_FEC;
    cfg->fec_span = span;
    cfg->fec_entries = entries;
    return 0;
}

/* Sets *field to the index of `v` in `names`: 1, or -1 if `v` is none of them. */
static int set_choice(int *field, const char *v, const char *const names[], int count)
{
    for (int i = 0; i < count; i++)
    {
        if (strcmp(v, names[i]) == 0)
        {
            *field = i;
            return 1;
        }
    }
    return -1;
}

int peer_session_option(t38_session_config_t *cfg, int argc, char *argv[], int *i)
{
    static const char *const off_on[] = { "off", "on" };
    static const char *const compressions[] = { "mh", "mr", "mmr" };  /* order of T38_SESSION_* */
    static const char *const paces[] = { "none", "realtime" };
    static const char *const with_value[] = { "--ecm",        "--compression", "--pace", "--max-rate", "--ident",
                                              "--redundancy", "--fec",         "--loss", "--seed" };
    const char *a = argv[*i];
    const char *v;
    int known = 0;
    int n;

    if (strcmp(a, "--verbose") == 0)
    {
        cfg->verbose = 1;
        return 1;
    }
    for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
        known |= strcmp(a, with_value[k]) == 0;
    if (!known)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    v = argv[++*i];
    if (strcmp(a, "--ecm") == 0)
        return set_choice(&cfg->ecm, v, off_on, 2);
    if (strcmp(a, "--compression") == 0)
        return set_choice(&cfg->compression, v, compressions, 3);
    if (strcmp(a, "--pace") == 0)
        return set_choice(&cfg->paced, v, paces, 2);
    if (strcmp(a, "--max-rate") == 0)
    {
        if (peer_parse_int(v, 2400, 14400, &n) < 0 || !is_fax_rate(n))
            return -1;
        cfg->max_rate = n;
        return 1;
    }
    if (strcmp(a, "--ident") == 0)
    {
        if (strlen(v) > 20)
            return -1;
        cfg->ident = v;
        return 1;
    }
    if (strcmp(a, "--redundancy") == 0)
    {
        if (peer_parse_int(v, 0, UDPTL_MAX_REDUNDANCY, &n) < 0)
            return -1;
        cfg->redundancy = n;
        cfg->ec_mode = n > 0 ? UDPTL_EC_REDUNDANCY : UDPTL_EC_NONE;
        return 1;
    }
    if (strcmp(a, "--fec") == 0)
        return parse_fec(v, cfg) < 0 ? -1 : 1;
    if (strcmp(a, "--loss") == 0)
    {
        char *end;
        double pct = strtod(v, &end);

        if (*end != '\0' || end == v || pct < 0 || pct > 100)
            return -1;
        cfg->loss_pct = pct;
        return 1;
    }
    /* --seed */
    if (peer_parse_int(v, 0, 0x7FFFFFFF, &n) < 0)
        return -1;
    cfg->seed = (unsigned int) n;
    return 1;
}

void peer_json_string(FILE *f, const char *str)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *) str; *c; c++)
    {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7F)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static const char *compression_name(int encoding)
{
    switch (encoding)
    {
    case T4_COMPRESSION_ITU_T4_1D:
        return "mh";
    case T4_COMPRESSION_ITU_T4_2D:
        return "mr";
    case T4_COMPRESSION_ITU_T6:
        return "mmr";
    default:
        return "none";
    }
}

static const char *resolution_name(int y)
{
    /* pixels per metre, T.4 §2.2: 3.85, 7.7, 15.4 lines/mm */
    if (y >= 15000)
        return "superfine";
    if (y >= 7000)
        return "fine";
    if (y > 0)
        return "standard";
    return "unknown";
}

void peer_print_session_fields(FILE *f, int ok, const char *reason, int completion_code,
                               const t38_session_result_t *r)
{
    fprintf(f, "{\"ok\":%s,\"reason\":", ok ? "true" : "false");
    peer_json_string(f, reason);
    fprintf(f, ",\"completionCode\":%d,\"pages\":%d,\"bitRate\":%d,\"ecm\":%s,\"compression\":\"%s\","
               "\"resolution\":\"%s\",\"remoteIdent\":",
            completion_code, r->pages, r->bit_rate, r->ecm ? "true" : "false", compression_name(r->encoding),
            resolution_name(r->y_resolution));
    peer_json_string(f, r->remote_ident);
    fprintf(f, ",\"durationMs\":%ld,\"simulatedMs\":%ld,\"txDatagrams\":%lu,\"txDropped\":%lu,\"rxDatagrams\":%lu,"
               "\"rxRecovered\":%lu,\"rxLost\":%lu,\"rxMalformed\":%lu,\"rxOverflow\":%lu",
            r->duration_ms, r->simulated_ms, r->tx_datagrams, r->tx_dropped, r->rx_datagrams, r->rx_recovered,
            r->rx_lost, r->rx_malformed, r->rx_overflow);
}
