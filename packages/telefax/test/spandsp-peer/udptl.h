/*
 * udptl.h - T.38 UDPTL transport (T.38 Annex, ASN.1 PER aligned): packet build and parse,
 * redundancy (secondary IFPs) and parity FEC, with in-order delivery and loss recovery.
 *
 * UDPTLPacket ::= SEQUENCE {
 *   seq-number          INTEGER (0..65535),
 *   primary-ifp-packet  open type (the IFP),
 *   error-recovery      CHOICE { secondary-ifp-packets SEQUENCE OF open type,
 *                                fec-info SEQUENCE { fec-npackets INTEGER, fec-data SEQUENCE OF OCTET STRING } } }
 */
#ifndef FAXWIRE_UDPTL_H
#define FAXWIRE_UDPTL_H

#include <stdint.h>

#define UDPTL_RING 16
#define UDPTL_RING_MASK (UDPTL_RING - 1)
#define UDPTL_MAX_IFP 1400
#define UDPTL_MAX_DATAGRAM 1500
#define UDPTL_MAX_REDUNDANCY 8
#define UDPTL_MAX_FEC_ENTRIES 5
#define UDPTL_MAX_FEC_SPAN 5

enum udptl_ec_mode
{
    UDPTL_EC_NONE = 0,
    UDPTL_EC_REDUNDANCY,
    UDPTL_EC_FEC
};

/* Called once per IFP, in sequence order, for received and recovered packets. */
typedef void (*udptl_ifp_handler_t)(void *user_data, const uint8_t *ifp, int len, uint16_t seq);

typedef struct
{
    int len;            /* -1 = empty slot */
    uint16_t seq;
    uint8_t buf[UDPTL_MAX_IFP];
} udptl_slot_t;

typedef struct
{
    /* transmit side */
    int ec_mode;
    int redundancy;     /* secondary IFPs per packet */
    int fec_span;       /* packets XORed into one parity entry */
    int fec_entries;    /* parity entries per packet */
    int max_datagram;   /* far end's limit; secondaries are trimmed to fit */
    int ifp_version;    /* T.38 version, to find the true end of an IFP rebuilt from zero-extended parity */
    uint16_t tx_seq;
    unsigned long tx_count;
    udptl_slot_t tx[UDPTL_RING];

    /* receive side */
    int rx_started;
    uint16_t rx_expected;
    udptl_slot_t rx[UDPTL_RING];
    udptl_ifp_handler_t on_ifp;
    void *on_ifp_user;

    /* counters */
    unsigned long rx_packets;
    unsigned long rx_malformed;
    unsigned long rx_duplicates;
    unsigned long rx_recovered_redundancy;
    unsigned long rx_recovered_fec;
    unsigned long rx_lost;
} udptl_state_t;

void udptl_init(udptl_state_t *s, int ec_mode, int redundancy, int fec_span, int fec_entries, int max_datagram,
                udptl_ifp_handler_t on_ifp, void *on_ifp_user);

/* Wraps one IFP into a datagram; returns its length, or -1 if the IFP cannot be sent. Consumes one seq. */
int udptl_build(udptl_state_t *s, const uint8_t *ifp, int ifp_len, uint8_t *out, int out_max);

/* Length of the IFP at the start of buf (T.38 version 0 or >= 1 PER encoding), or -1 if it does not parse. */
int udptl_ifp_length(const uint8_t *buf, int len, int version);

/* Parses one datagram and delivers the IFPs it carries or recovers, in order. Returns 0, or -1 if malformed. */
int udptl_rx(udptl_state_t *s, const uint8_t *buf, int len);

#endif
