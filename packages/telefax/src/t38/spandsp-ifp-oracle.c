/*
 * Test oracle for ifp.test.ts: encodes and decodes IFP packets with libspandsp's t38_core, one command per line.
 *   I <version> <indicator>                     -> hex of the encoded indicator IFP
 *   D <version> <type> <n> (<field> <hex|->)*n  -> hex of the encoded data IFP
 *   X <version> <hex>                           -> OK|ERR, then " I<indicator>" or " D<type>/<field>:<hex>" items
 * Build: gcc spandsp-ifp-oracle.c $(pkg-config --cflags --libs spandsp) -ltiff
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <spandsp.h>

static char out[1 << 20];
static int out_len;

static int on_tx(t38_core_state_t *s, void *user, const uint8_t *buf, int len, int count)
{
    out_len = 0;
    for (int i = 0; i < len; i++)
        out_len += sprintf(out + out_len, "%02X", buf[i]);
    return 0;
}

static int on_indicator(t38_core_state_t *s, void *user, int indicator)
{
    out_len += sprintf(out + out_len, " I%d", indicator);
    return 0;
}

static int on_data(t38_core_state_t *s, void *user, int data_type, int field_type, const uint8_t *buf, int len)
{
    out_len += sprintf(out + out_len, " D%d/%d:", data_type, field_type);
    for (int i = 0; i < len; i++)
        out_len += sprintf(out + out_len, "%02X", buf[i]);
    return 0;
}

static int on_missing(t38_core_state_t *s, void *user, int rx_seq_no, int expected_seq_no)
{
    return 0;
}

static int from_hex(const char *text, uint8_t *bytes)
{
    int n = 0;
    while (text[0] && text[1] && text[0] != ' ' && text[0] != '\n')
    {
        sscanf(text, "%2hhx", &bytes[n++]);
        text += 2;
    }
    return n;
}

int main(void)
{
    static char line[1 << 18];
    static uint8_t field_bytes[64][4096];
    static uint8_t packet[1 << 17];
    t38_core_state_t *core[2];

    for (int v = 0; v < 2; v++)
    {
        core[v] = t38_core_init(NULL, on_indicator, on_data, on_missing, NULL, on_tx, NULL);
        t38_set_t38_version(core[v], v == 0 ? 0 : 2);
        t38_set_sequence_number_handling(core[v], 0);
    }
    while (fgets(line, sizeof(line), stdin))
    {
        t38_core_state_t *s = core[line[2] == '0' ? 0 : 1];
        char *p = line + 4;

        out_len = 0;
        out[0] = '\0';
        if (line[0] == 'I')
        {
            /* 0x100 forces the packet out even when the indicator repeats the last one. */
            if (t38_core_send_indicator(s, 0x100 | atoi(p)) < 0)
                printf("ERR\n");
            else
                printf("%s\n", out);
        }
        else if (line[0] == 'D')
        {
            t38_data_field_t fields[64];
            int data_type = strtol(p, &p, 10);
            int n = strtol(p, &p, 10);

            for (int i = 0; i < n && i < 64; i++)
            {
                fields[i].field_type = strtol(p, &p, 10);
                while (*p == ' ')
                    p++;
                if (*p == '-')
                {
                    fields[i].field = NULL;
                    fields[i].field_len = 0;
                    p++;
                }
                else
                {
                    fields[i].field_len = from_hex(p, field_bytes[i]);
                    fields[i].field = field_bytes[i];
                    p += 2*fields[i].field_len;
                }
            }
            if (t38_core_send_data_multi_field(s, data_type, fields, n, T38_PACKET_CATEGORY_CONTROL_DATA) < 0)
                printf("ERR\n");
            else
                printf("%s\n", out);
        }
        else if (line[0] == 'X')
        {
            int len = from_hex(p, packet);
            int result = t38_core_rx_ifp_packet(s, packet, len, 0);

            printf("%s%s\n", result < 0 ? "ERR" : "OK", out);
        }
        fflush(stdout);
    }
    return 0;
}
