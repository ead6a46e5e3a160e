/*
 * t38-sdp.h - the SDP side of a fax call: parse an offer/answer (sofia-sip sdp_parse) into the streams and
 * T.38 attributes a fax terminal cares about, and write our own audio (PCMU/PCMA) and image (udptl t38)
 * descriptions (RFC 4566, RFC 3264, T.38 Annex D.2.3).
 */
#ifndef FAXWIRE_T38_SDP_H
#define FAXWIRE_T38_SDP_H

#include <stddef.h>

#define T38_SDP_MAX_STREAMS 8

enum t38_sdp_kind
{
    T38_SDP_OTHER = 0,
    T38_SDP_AUDIO,      /* m=audio RTP/AVP */
    T38_SDP_IMAGE       /* m=image udptl t38 */
};

enum t38_sdp_ec
{
    T38_SDP_EC_ABSENT = -1,
    T38_SDP_EC_NONE = 0,
    T38_SDP_EC_REDUNDANCY,
    T38_SDP_EC_FEC
};

typedef struct
{
    int kind;               /* T38_SDP_* */
    int port;               /* 0 = rejected/disabled stream (RFC 3264 §6) */
    char type[16];          /* as written, to mirror a stream we decline */
    char proto[24];
    char formats[64];
    char addr[64];          /* media-level c=, else session-level */
    int pcmu;               /* audio: payload types offered */
    int pcma;
} t38_sdp_stream_t;

/* T.38 attributes of the image stream; -1 / "" = absent. Names are matched case-insensitively, with the
   legacy aliases T38FaxMaxRate and T38MaxDatagram. */
typedef struct
{
    int version;
    int max_bit_rate;
    int fill_bit_removal;
    int transcoding_mmr;
    int transcoding_jbig;
    char rate_management[32];
    int max_buffer;
    int max_datagram;
    int max_ifp;
    int udp_ec;             /* T38_SDP_EC_* */
    char udp_ec_text[32];
} t38_sdp_params_t;

typedef struct
{
    int count;
    t38_sdp_stream_t streams[T38_SDP_MAX_STREAMS];
    int audio;              /* index of the first usable (port != 0, PCMU/PCMA) audio stream, or -1 */
    int image;              /* index of the first usable (port != 0) udptl t38 stream, or -1 */
    t38_sdp_params_t t38;   /* of `image` */
} t38_sdp_t;

/* Parses `len` octets of SDP. Returns 0, or -1 with a message in `err`. */
int t38_sdp_parse(const char *text, size_t len, t38_sdp_t *out, char *err, size_t err_len);

/* Our side of one stream when writing an offer or answer. */
typedef struct
{
    int kind;               /* T38_SDP_AUDIO, T38_SDP_IMAGE, or T38_SDP_OTHER to decline a mirrored stream */
    int port;               /* 0 = declined */
    int audio_pt;           /* audio: -1 = offer PCMU and PCMA, else the one payload type answered */
    const t38_sdp_stream_t *mirror;     /* declined stream of the offer: type/proto/formats are copied */
} t38_sdp_out_stream_t;

typedef struct
{
    const char *ip;
    unsigned long long session_id;
    unsigned long long version;
    t38_sdp_params_t t38;   /* what we write on m=image (udp_ec_text ignored) */
} t38_sdp_local_t;

/* Writes a session description; returns its length, or -1 if `cap` is too small. */
int t38_sdp_write(const t38_sdp_local_t *local, const t38_sdp_out_stream_t *streams, int count, char *out,
                  size_t cap);

const char *t38_sdp_ec_name(int ec);

#endif
