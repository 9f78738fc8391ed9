/* libFuzzer target: hostile bytes through the age decryptor (header lines, stanzas, the MAC,
 * the payload nonce and the STREAM chunks), with a fixed test identity that the seed corpus
 * is encrypted to (tests/fuzz/corpus/age, made with `age -r` and with custody). The identity
 * is a test key, not a secret. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "age.h"

#define FUZZ_IDENTITY "AGE-SECRET-KEY-1UW2YJHP3AW6ANLJTHYJ78QP4A9KH7ZEHC7SPDV4AGK79RZKJ82SSCR944F"

struct src {
    const uint8_t *p;
    size_t n, off, step;
};

static ssize_t source(void *ctx, void *buf, size_t len)
{
    struct src *s = ctx;
    size_t k = s->n - s->off;
    if (k > len)
        k = len;
    if (k > s->step) /* short reads, as from a pipe */
        k = s->step;
    memcpy(buf, s->p + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct age_identity id;
    static int have;
    struct cu_err err;
    if (!have) {
        if (age_identity_parse(FUZZ_IDENTITY, &id, &err) != 0)
            __builtin_trap();
        have = 1;
    }
    if (size < 1)
        return 0;
    struct src s = {data + 1, size - 1, 0, (size_t)data[0] * 97 + 1};
    struct age_dec *d = age_dec_new(&id, 1, source, &s, &err);
    if (!d)
        return 0;
    unsigned char buf[70000];
    ssize_t r;
    while ((r = age_dec_read(d, buf, sizeof buf, &err)) > 0)
        ;
    age_dec_free(d);
    return 0;
}
