/*
 * udptl.c - T.38 UDPTL transport: build/parse, redundancy and parity FEC (see udptl.h).
 *
 * Encoding facts (T.38 Annex ASN.1, PER aligned):
 *   - seq-number: 2 octets, big-endian.
 *   - open type / SEQUENCE OF count / OCTET STRING length: length determinant of 1 octet (< 128) or
 *     2 octets 0x8000|len (< 16384). Fragmented lengths (0xC0..) are rejected.
 *   - An empty open type is carried as one zero octet.
 *   - error-recovery CHOICE: one octet, 0x00 = secondary IFPs (newest first), 0x80 = FEC.
 *   - fec-npackets is an unconstrained INTEGER: one length octet then the value.
 *   - FEC entry m of packet n is the XOR of the IFPs n+m-E*j, j = 1..span (E = entries); shorter IFPs are
 *     zero-extended. At the start of a stream span/entries wind up as packets become available.
 */
#include "udptl.h"

#include <string.h>

static int put_length(uint8_t *out, int pos, int max, int len)
{
    if (len < 0x80)
    {
        if (pos + 1 > max)
            return -1;
        out[pos++] = (uint8_t) len;
        return pos;
    }
    if (len < 0x4000)
    {
        if (pos + 2 > max)
            return -1;
        out[pos++] = (uint8_t) (0x80 | (len >> 8));
        out[pos++] = (uint8_t) (len & 0xFF);
        return pos;
    }
    return -1;
}

static int put_open_type(uint8_t *out, int pos, int max, const uint8_t *data, int len)
{
    static const uint8_t zero = 0;

    if (len == 0)
    {
        data = &zero;
        len = 1;
    }
    if ((pos = put_length(out, pos, max, len)) < 0 || pos + len > max)
        return -1;
    memcpy(out + pos, data, len);
    return pos + len;
}

static int length_size(int len)
{
    return (len < 0x80) ? 1 : 2;
}

static int get_length(const uint8_t *buf, int limit, int *pos, int *out)
{
    int b;

    if (*pos >= limit)
        return -1;
    b = buf[(*pos)++];
    if ((b & 0x80) == 0)
    {
        *out = b;
        return 0;
    }
    if ((b & 0xC0) == 0x80)
    {
        if (*pos >= limit)
            return -1;
        *out = ((b & 0x3F) << 8) | buf[(*pos)++];
        return 0;
    }
    return -1;
}

static int get_octets(const uint8_t *buf, int limit, int *pos, const uint8_t **data, int *len)
{
    if (get_length(buf, limit, pos, len) < 0 || *len > limit - *pos)
        return -1;
    *data = buf + *pos;
    *pos += *len;
    return 0;
}

/* A length-prefixed sequence of octet strings (each at most UDPTL_MAX_IFP long): the first `max` are kept in
   data/lens, the rest only read past. Returns how many the sequence holds, or -1 if it is malformed. */
static int get_octets_list(const uint8_t *buf, int limit, int *pos, int max, const uint8_t **data, int *lens,
                           int *kept)
{
    int count;

    *kept = 0;
    if (get_length(buf, limit, pos, &count) < 0)
        return -1;
    for (int i = 0; i < count; i++)
    {
        const uint8_t *d;
        int l;

        if (get_octets(buf, limit, pos, &d, &l) < 0 || l > UDPTL_MAX_IFP)
            return -1;
        if (*kept < max)
        {
            data[*kept] = d;
            lens[(*kept)++] = l;
        }
    }
    return count;
}

int udptl_ifp_length(const uint8_t *buf, int len, int version)
{
    int ptr;
    int count;
    int other_half = 0;

    if (len < 1)
        return -1;
    /* Octet 0: data-field present, type-of-msg choice, then (version >= 1) the enumeration's extension bit;
       an extended indicator/data type needs a second octet. */
    ptr = (version >= 1 && (buf[0] & 0x20)) ? 2 : 1;
    if (ptr > len)
        return -1;
    if ((buf[0] & 0x80) == 0)
        return ptr;
    if (get_length(buf, len, &ptr, &count) < 0 || count < 1)
        return -1;
    for (int i = 0; i < count; i++)
    {
        int present;

        if (ptr >= len)
            return -1;
        if (version == 0)
        {
            /* T.38 (1998) field-type has no extension marker: a field without data takes half an octet and
               the next field starts in the low nibble. */
            if (other_half)
            {
                present = (buf[ptr] >> 3) & 1;
                ptr++;
                other_half = 0;
            }
            else
            {
                present = (buf[ptr] >> 7) & 1;
                if (present)
                    ptr++;
                else
                    other_half = 1;
            }
        }
        else
        {
            present = (buf[ptr] >> 7) & 1;
            ptr += (buf[ptr] & 0x40) ? 2 : 1;
        }
        if (present)
        {
            int l;

            if (ptr + 2 > len)
                return -1;
            /* field-data OCTET STRING (SIZE (1..65535)): 16-bit length - 1 */
            l = ((buf[ptr] << 8) | buf[ptr + 1]) + 1;
            ptr += 2 + l;
        }
        if (ptr > len)
            return -1;
    }
    if (other_half)
        ptr++;
    return (ptr <= len) ? ptr : -1;
}

static void clear_ring(udptl_slot_t ring[])
{
    for (int i = 0; i < UDPTL_RING; i++)
    {
        ring[i].len = -1;
        ring[i].seq = 0;
    }
}

void udptl_init(udptl_state_t *s, int ec_mode, int redundancy, int fec_span, int fec_entries, int max_datagram,
                udptl_ifp_handler_t on_ifp, void *on_ifp_user)
{
    memset(s, 0, sizeof(*s));
    s->ec_mode = ec_mode;
    if (redundancy < 0)
        redundancy = 0;
    if (redundancy > UDPTL_MAX_REDUNDANCY)
        redundancy = UDPTL_MAX_REDUNDANCY;
    s->redundancy = redundancy;
    if (fec_entries < 1)
        fec_entries = 1;
    if (fec_entries > UDPTL_MAX_FEC_ENTRIES)
        fec_entries = UDPTL_MAX_FEC_ENTRIES;
    if (fec_span < 1)
        fec_span = 1;
    if (fec_span > UDPTL_MAX_FEC_SPAN)
        fec_span = UDPTL_MAX_FEC_SPAN;
    /* The parity of packet n reaches back span*entries packets; the ring must still hold them. */
    while (fec_span * fec_entries >= UDPTL_RING)
        fec_span--;
    s->fec_span = fec_span;
    s->fec_entries = fec_entries;
    if (max_datagram <= 0 || max_datagram > UDPTL_MAX_DATAGRAM)
        max_datagram = UDPTL_MAX_DATAGRAM;
    s->max_datagram = max_datagram;
    clear_ring(s->tx);
    clear_ring(s->rx);
    s->on_ifp = on_ifp;
    s->on_ifp_user = on_ifp_user;
}

static int put_fec(const udptl_state_t *s, uint16_t seq, int span, int entries, uint8_t *out, int pos, int max)
{
    uint8_t fec[UDPTL_MAX_IFP];

    if (pos + 4 > max)
        return -1;
    out[pos++] = 0x80;
    out[pos++] = 1;
    out[pos++] = (uint8_t) span;
    if ((pos = put_length(out, pos, max, entries)) < 0)
        return -1;
    for (int m = 0; m < entries; m++)
    {
        int high = 0;

        for (int j = 1; j <= span; j++)
        {
            uint16_t member = (uint16_t) (seq + m - entries * j);
            const udptl_slot_t *p = &s->tx[member & UDPTL_RING_MASK];

            if (p->len <= 0 || p->seq != member)
                continue;
            for (int k = 0; k < p->len; k++)
                fec[k] = (k < high) ? (uint8_t) (fec[k] ^ p->buf[k]) : p->buf[k];
            if (p->len > high)
                high = p->len;
        }
        if ((pos = put_length(out, pos, max, high)) < 0 || pos + high > max)
            return -1;
        memcpy(out + pos, fec, high);
        pos += high;
    }
    return pos;
}

int udptl_build(udptl_state_t *s, const uint8_t *ifp, int ifp_len, uint8_t *out, int out_max)
{
    uint16_t seq;
    udptl_slot_t *slot;
    int pos;
    int sent_before;
    int max;

    if (ifp_len < 0 || ifp_len > UDPTL_MAX_IFP)
        return -1;
    max = (out_max < s->max_datagram) ? out_max : s->max_datagram;
    seq = s->tx_seq;
    /* Packets available for redundancy/FEC; only the start of a stream is short of them. */
    sent_before = (s->tx_count < UDPTL_RING) ? (int) s->tx_count : UDPTL_RING;
    slot = &s->tx[seq & UDPTL_RING_MASK];
    slot->seq = seq;
    slot->len = ifp_len;
    memcpy(slot->buf, ifp, ifp_len);

    out[0] = (uint8_t) (seq >> 8);
    out[1] = (uint8_t) (seq & 0xFF);
    if ((pos = put_open_type(out, 2, max, ifp, ifp_len)) < 0)
        return -1;

    if (s->ec_mode == UDPTL_EC_FEC)
    {
        int span = s->fec_span;
        int entries = s->fec_entries;
        int start = pos;

        if (sent_before < span * entries)
        {
            entries = sent_before / span;
            if (sent_before < span)
                span = 0;
        }
        /* If the parity does not fit the far end's datagram limit, send this packet without parity. */
        if ((pos = put_fec(s, seq, span, entries, out, start, max)) < 0
            && (pos = put_fec(s, seq, 0, 0, out, start, max)) < 0)
            return -1;
    }
    else
    {
        int n = 0;
        int room;

        if (s->ec_mode == UDPTL_EC_REDUNDANCY)
        {
            n = (s->redundancy < sent_before) ? s->redundancy : sent_before;
            /* Drop the oldest secondaries until the datagram fits the far end's limit. */
            for (;;)
            {
                room = pos + 1 + 1;
                for (int i = 1; i <= n; i++)
                {
                    int l = s->tx[(uint16_t) (seq - i) & UDPTL_RING_MASK].len;
                    if (l < 1)
                        l = 1;
                    room += length_size(l) + l;
                }
                if (room <= max || n == 0)
                    break;
                n--;
            }
        }
        if (pos + 2 > max)
            return -1;
        out[pos++] = 0x00;
        out[pos++] = (uint8_t) n;
        for (int i = 1; i <= n; i++)
        {
            const udptl_slot_t *p = &s->tx[(uint16_t) (seq - i) & UDPTL_RING_MASK];
            if ((pos = put_open_type(out, pos, max, p->buf, p->len > 0 ? p->len : 0)) < 0)
                return -1;
        }
    }
    s->tx_seq++;
    s->tx_count++;
    return pos;
}

static udptl_slot_t *rx_slot(udptl_state_t *s, uint16_t seq)
{
    udptl_slot_t *p = &s->rx[seq & UDPTL_RING_MASK];
    return (p->len >= 0 && p->seq == seq) ? p : NULL;
}

static void rx_store(udptl_state_t *s, uint16_t seq, const uint8_t *ifp, int len)
{
    udptl_slot_t *p = &s->rx[seq & UDPTL_RING_MASK];

    if (len > UDPTL_MAX_IFP)
        len = UDPTL_MAX_IFP;
    p->seq = seq;
    p->len = len;
    memcpy(p->buf, ifp, len);
}

static void rx_forget(udptl_state_t *s, uint16_t seq)
{
    udptl_slot_t *p = &s->rx[seq & UDPTL_RING_MASK];
    p->len = -1;
    p->seq = seq;
}

int udptl_rx(udptl_state_t *s, const uint8_t *buf, int len)
{
    uint16_t seq;
    uint16_t diff;
    int pos;
    const uint8_t *primary;
    int primary_len;
    int ec = UDPTL_EC_NONE;
    const uint8_t *sec[UDPTL_RING];
    int sec_len[UDPTL_RING];
    int nsec = 0;
    const uint8_t *fec[UDPTL_MAX_FEC_ENTRIES];
    int fec_len[UDPTL_MAX_FEC_ENTRIES];
    int fec_span = 0;
    int fec_entries = 0;

    if (len < 3)
        goto malformed;
    seq = (uint16_t) ((buf[0] << 8) | buf[1]);
    pos = 2;
    if (get_octets(buf, len, &pos, &primary, &primary_len) < 0 || primary_len < 1 || primary_len > UDPTL_MAX_IFP)
        goto malformed;
    if (pos < len)
    {
        if ((buf[pos++] & 0x80) == 0)
        {
            ec = UDPTL_EC_REDUNDANCY;
            if (get_octets_list(buf, len, &pos, UDPTL_RING, sec, sec_len, &nsec) < 0)
                goto malformed;
        }
        else
        {
            int ilen;
            int count;

            ec = UDPTL_EC_FEC;
            if (pos >= len)
                goto malformed;
            ilen = buf[pos++];
            if (ilen < 1 || ilen > 2 || pos + ilen > len)
                goto malformed;
            for (int i = 0; i < ilen; i++)
                fec_span = (fec_span << 8) | buf[pos++];
            if ((count = get_octets_list(buf, len, &pos, UDPTL_MAX_FEC_ENTRIES, fec, fec_len, &fec_entries)) < 0)
                goto malformed;
            if (fec_entries != count)
                fec_entries = 0;    /* beyond what we keep: ignore the parity rather than misapply it */
            if (fec_span * fec_entries >= UDPTL_RING)
                fec_entries = 0;
        }
    }
    s->rx_packets++;

    if (!s->rx_started)
    {
        s->rx_started = 1;
        s->rx_expected = seq;
        clear_ring(s->rx);
    }
    diff = (uint16_t) (seq - s->rx_expected);
    if (diff >= 0x8000)
    {
        /* Behind the expected seq: a repeat (same seq sent several times) or too late to use. */
        s->rx_duplicates++;
        return 0;
    }
    if (diff > 1000)
    {
        /* A far jump is a restarted stream rather than a loss burst (the peer's seq was reset). */
        clear_ring(s->rx);
        s->rx_expected = seq;
        diff = 0;
    }
    for (uint16_t m = s->rx_expected; m != seq; m++)
        rx_forget(s, m);
    rx_store(s, seq, primary, primary_len);

    for (uint16_t m = s->rx_expected; m != seq; m++)
    {
        int back = (uint16_t) (seq - m);
        udptl_slot_t *got;

        if (ec == UDPTL_EC_REDUNDANCY && back - 1 < nsec && sec_len[back - 1] > 0)
        {
            rx_store(s, m, sec[back - 1], sec_len[back - 1]);
            s->rx_recovered_redundancy++;
        }
        else if (ec == UDPTL_EC_FEC && fec_entries > 0)
        {
            /* m is covered by entry l when seq + l - m is a multiple j*E with 1 <= j <= span. */
            for (int l = 0; l < fec_entries; l++)
            {
                int off = (int) back + l;
                int complete = 1;
                uint8_t rebuilt[UDPTL_MAX_IFP];

                if (off % fec_entries != 0 || off / fec_entries < 1 || off / fec_entries > fec_span)
                    continue;
                memcpy(rebuilt, fec[l], fec_len[l]);
                for (int j = 1; j <= fec_span && complete; j++)
                {
                    uint16_t member = (uint16_t) (seq + l - fec_entries * j);
                    const udptl_slot_t *p;

                    if (member == m)
                        continue;
                    if ((p = rx_slot(s, member)) == NULL)
                    {
                        complete = 0;
                        break;
                    }
                    for (int k = 0; k < p->len && k < fec_len[l]; k++)
                        rebuilt[k] ^= p->buf[k];
                }
                if (complete && fec_len[l] > 0)
                {
                    /* The parity is as long as the longest member; cut the rebuilt IFP to its own length. */
                    int exact = udptl_ifp_length(rebuilt, fec_len[l], s->ifp_version);

                    rx_store(s, m, rebuilt, (exact > 0) ? exact : fec_len[l]);
                    s->rx_recovered_fec++;
                    break;
                }
            }
        }
        if ((got = rx_slot(s, m)) != NULL)
            s->on_ifp(s->on_ifp_user, got->buf, got->len, m);
        else
            s->rx_lost++;
    }
    rx_store(s, seq, primary, primary_len);
    s->on_ifp(s->on_ifp_user, primary, primary_len, seq);
    s->rx_expected = (uint16_t) (seq + 1);
    return 0;

malformed:
    s->rx_malformed++;
    return -1;
}
