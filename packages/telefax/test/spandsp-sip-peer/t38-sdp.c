/*
 * t38-sdp.c - parse and write the SDP of a T.38 fax call (see t38-sdp.h).
 */
#define _GNU_SOURCE
#include "t38-sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int parse_number(const char *value, int fallback)
{
    char *end;
    long v;

    if (value == NULL)
        return fallback;
    v = strtol(value, &end, 10);
    if (end == value || v < 0 || v > 1000000000L)
        return fallback;
    return (int) v;
}

/* T.38 Annex D.2.3 booleans appear bare (true by presence) or, from some vendors, as ":0"/":1". */
static int parse_boolean(const char *value)
{
    if (value == NULL || *value == '\0')
        return 1;
    return strcmp(value, "0") != 0 && strcasecmp(value, "false") != 0;
}

static void init_params(t38_sdp_params_t *p)
{
    memset(p, 0, sizeof(*p));
    p->version = -1;
    p->max_bit_rate = -1;
    p->max_buffer = -1;
    p->max_datagram = -1;
    p->max_ifp = -1;
    p->udp_ec = T38_SDP_EC_ABSENT;
}

static void read_t38_attributes(const sdp_attribute_t *a, t38_sdp_params_t *p)
{
    for (; a != NULL; a = a->a_next)
    {
        const char *n = a->a_name;
        const char *v = a->a_value;

        if (n == NULL)
            continue;
        if (strcasecmp(n, "T38FaxVersion") == 0)
            p->version = parse_number(v, -1);
        else if (strcasecmp(n, "T38MaxBitRate") == 0 || strcasecmp(n, "T38FaxMaxRate") == 0)
            p->max_bit_rate = parse_number(v, -1);
        else if (strcasecmp(n, "T38FaxFillBitRemoval") == 0)
            p->fill_bit_removal = parse_boolean(v);
        else if (strcasecmp(n, "T38FaxTranscodingMMR") == 0)
            p->transcoding_mmr = parse_boolean(v);
        else if (strcasecmp(n, "T38FaxTranscodingJBIG") == 0)
            p->transcoding_jbig = parse_boolean(v);
        else if (strcasecmp(n, "T38FaxRateManagement") == 0)
            copy_text(p->rate_management, sizeof(p->rate_management), v);
        else if (strcasecmp(n, "T38FaxMaxBuffer") == 0)
            p->max_buffer = parse_number(v, -1);
        else if (strcasecmp(n, "T38FaxMaxDatagram") == 0 || strcasecmp(n, "T38MaxDatagram") == 0)
            p->max_datagram = parse_number(v, -1);
        else if (strcasecmp(n, "T38FaxMaxIFP") == 0)
            p->max_ifp = parse_number(v, -1);
        else if (strcasecmp(n, "T38FaxUdpEC") == 0)
        {
            copy_text(p->udp_ec_text, sizeof(p->udp_ec_text), v);
            if (v && strcasecmp(v, "t38UDPRedundancy") == 0)
                p->udp_ec = T38_SDP_EC_REDUNDANCY;
            else if (v && strcasecmp(v, "t38UDPFEC") == 0)
                p->udp_ec = T38_SDP_EC_FEC;
            else
                p->udp_ec = T38_SDP_EC_NONE;
        }
    }
}

static void formats_text(const sdp_list_t *l, char *out, size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    for (; l != NULL && used + 1 < cap; l = l->l_next)
    {
        int n = snprintf(out + used, cap - used, "%s%s", used ? " " : "", l->l_text ? l->l_text : "");
        if (n < 0 || (size_t) n >= cap - used)
            break;
        used += (size_t) n;
    }
}

static void find_g711(const sdp_media_t *m, t38_sdp_stream_t *s)
{
    for (const sdp_list_t *l = m->m_format; l != NULL; l = l->l_next)
    {
        if (l->l_text && strcmp(l->l_text, "0") == 0)
            s->pcmu = 1;
        else if (l->l_text && strcmp(l->l_text, "8") == 0)
            s->pcma = 1;
    }
    for (const sdp_rtpmap_t *r = m->m_rtpmaps; r != NULL; r = r->rm_next)
    {
        if (r->rm_encoding && r->rm_pt == 0 && strcasecmp(r->rm_encoding, "PCMU") == 0)
            s->pcmu = 1;
        else if (r->rm_encoding && r->rm_pt == 8 && strcasecmp(r->rm_encoding, "PCMA") == 0)
            s->pcma = 1;
    }
}

int t38_sdp_parse(const char *text, size_t len, t38_sdp_t *out, char *err, size_t err_len)
{
    su_home_t *home = su_home_new(sizeof(su_home_t));
    sdp_parser_t *parser;
    sdp_session_t *session;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->audio = -1;
    out->image = -1;
    init_params(&out->t38);
    if (home == NULL)
    {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    parser = sdp_parse(home, text, (issize_t) len, 0);
    session = sdp_session(parser);
    if (session == NULL)
    {
        snprintf(err, err_len, "bad SDP: %s", sdp_parsing_error(parser));
        goto done;
    }
    for (const sdp_media_t *m = session->sdp_media; m != NULL; m = m->m_next)
    {
        t38_sdp_stream_t *s;
        const sdp_connection_t *c = m->m_connections ? m->m_connections : session->sdp_connection;

        if (out->count == T38_SDP_MAX_STREAMS)
        {
            snprintf(err, err_len, "more than %d m= lines", T38_SDP_MAX_STREAMS);
            goto done;
        }
        if (m->m_port > 65535)
        {
            snprintf(err, err_len, "bad SDP: port %lu out of range", m->m_port);
            goto done;
        }
        s = &out->streams[out->count];
        s->port = m->m_rejected ? 0 : (int) m->m_port;
        copy_text(s->type, sizeof(s->type), m->m_type_name);
        copy_text(s->proto, sizeof(s->proto), m->m_proto_name);
        formats_text(m->m_format, s->formats, sizeof(s->formats));
        copy_text(s->addr, sizeof(s->addr), c ? c->c_address : "");
        if (m->m_type == sdp_media_audio && m->m_proto == sdp_proto_rtp)
        {
            s->kind = T38_SDP_AUDIO;
            find_g711(m, s);
            if (out->audio < 0 && s->port != 0 && (s->pcmu || s->pcma))
                out->audio = out->count;
        }
        else if (m->m_type == sdp_media_image && m->m_proto == sdp_proto_udptl)
        {
            s->kind = T38_SDP_IMAGE;
            if (out->image < 0 && s->port != 0)
            {
                out->image = out->count;
                read_t38_attributes(m->m_attributes, &out->t38);
            }
        }
        out->count++;
    }
    rc = 0;
done:
    sdp_parser_free(parser);
    su_home_unref(home);
    return rc;
}

const char *t38_sdp_ec_name(int ec)
{
    switch (ec)
    {
    case T38_SDP_EC_REDUNDANCY:
        return "t38UDPRedundancy";
    case T38_SDP_EC_FEC:
        return "t38UDPFEC";
    case T38_SDP_EC_NONE:
        return "t38UDPNoEC";
    default:
        return "";
    }
}

typedef struct
{
    char *buf;
    size_t cap;
    size_t used;
    int overflow;
} writer_t;

static void put(writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(writer_t *w, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (w->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(w->buf + w->used, w->cap - w->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= w->cap - w->used)
    {
        w->overflow = 1;
        return;
    }
    w->used += (size_t) n;
}

int t38_sdp_write(const t38_sdp_local_t *local, const t38_sdp_out_stream_t *streams, int count, char *out,
                  size_t cap)
{
    writer_t w = { out, cap, 0, 0 };
    const char *family = strchr(local->ip, ':') ? "IP6" : "IP4";
    const t38_sdp_params_t *t = &local->t38;

    put(&w, "v=0\r\no=spandsp-sip-peer %llu %llu IN %s %s\r\ns=spandsp-sip-peer\r\nc=IN %s %s\r\nt=0 0\r\n",
        local->session_id, local->version, family, local->ip, family, local->ip);
    for (int i = 0; i < count; i++)
    {
        const t38_sdp_out_stream_t *s = &streams[i];

        if (s->kind == T38_SDP_AUDIO && s->port != 0)
        {
            if (s->audio_pt < 0)
                put(&w, "m=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n", s->port);
            else
                put(&w, "m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s/8000\r\n", s->port, s->audio_pt, s->audio_pt,
                    s->audio_pt == 8 ? "PCMA" : "PCMU");
            put(&w, "a=ptime:20\r\na=sendrecv\r\n");
        }
        else if (s->kind == T38_SDP_IMAGE && s->port != 0)
        {
            put(&w, "m=image %d udptl t38\r\n", s->port);
            put(&w, "a=T38FaxVersion:%d\r\na=T38MaxBitRate:%d\r\n", t->version, t->max_bit_rate);
            if (t->fill_bit_removal)
                put(&w, "a=T38FaxFillBitRemoval\r\n");
            put(&w, "a=T38FaxRateManagement:%s\r\n", t->rate_management);
            if (t->max_buffer > 0)
                put(&w, "a=T38FaxMaxBuffer:%d\r\n", t->max_buffer);
            if (t->max_datagram > 0)
                put(&w, "a=T38FaxMaxDatagram:%d\r\n", t->max_datagram);
            if (t->udp_ec != T38_SDP_EC_ABSENT)
                put(&w, "a=T38FaxUdpEC:%s\r\n", t38_sdp_ec_name(t->udp_ec));
        }
        else if (s->mirror != NULL)
        {
            /* RFC 3264 §6: a declined stream keeps its m= line with port 0 and at least one format. */
            put(&w, "m=%s 0 %s %s\r\n", s->mirror->type, s->mirror->proto,
                s->mirror->formats[0] ? s->mirror->formats : "0");
        }
        else if (s->kind == T38_SDP_IMAGE)
        {
            put(&w, "m=image 0 udptl t38\r\n");
        }
        else
        {
            put(&w, "m=audio 0 RTP/AVP 0\r\n");
        }
    }
    return w.overflow ? -1 : (int) w.used;
}
