/* Unit tests for util: time formatting and parsing, UTF-8, base64, sizes, capped buffers. */
#include <stdlib.h>

#include "check.h"
#include "util.h"

int main(void)
{
    char t[CU_TIME_MAX];
    struct timespec ts = {1614211200, 5}; /* 2021-02-25T00:00:00Z */
    cu_time_format(&ts, t);
    CHECK_STR(t, "2021-02-25T00:00:00.000000005Z");
    struct timespec p;
    CHECK(cu_time_parse("2021-02-25", &p) == 0 && p.tv_sec == 1614211200 && p.tv_nsec == 0);
    CHECK(cu_time_parse("2021-02-25T01:00:00+01:00", &p) == 0 && p.tv_sec == 1614211200);
    CHECK(cu_time_parse("2021-02-25T00:00:00.5Z", &p) == 0 && p.tv_nsec == 500000000);
    CHECK(cu_time_parse("2021-02-25T00:00:00", &p) == -1);
    CHECK(cu_time_parse("yesterday", &p) == -1);
    char st[20];
    cu_time_stamp(1614211200, st);
    CHECK_STR(st, "20210225T000000Z");

    CHECK(cu_utf8_valid("abc", 3));
    CHECK(cu_utf8_valid("\xc3\xa9", 2));
    CHECK(!cu_utf8_valid("\xff", 1));
    CHECK(!cu_utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
    CHECK(!cu_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    char *l = cu_utf8_lossy("a\xffz", 3);
    CHECK_STR(l, "a\xef\xbf\xbdz");
    free(l);

    char *b = cu_base64_encode((const unsigned char *)"a\xff\x00z", 4);
    CHECK_STR(b, "Yf8Aeg==");
    size_t n;
    unsigned char *d = cu_base64_decode(b, &n);
    CHECK(d && n == 4 && memcmp(d, "a\xff\x00z", 4) == 0);
    free(d);
    free(b);
    CHECK(cu_base64_decode("abc", &n) == NULL);

    uint64_t v;
    CHECK(cu_size_parse("4000M", &v) == 0 && v == 4000ULL << 20);
    CHECK(cu_size_parse("64KiB", &v) == 0 && v == 65536);
    CHECK(cu_size_parse("12", &v) == 0 && v == 12);
    CHECK(cu_size_parse("-1", &v) == -1);
    CHECK(cu_size_parse("5X", &v) == -1);

    struct cu_buf buf;
    cu_buf_init(&buf, 8);
    CHECK(cu_buf_append(&buf, "12345", 5) == 0);
    CHECK(cu_buf_append(&buf, "6789", 4) == -1);
    CHECK(buf.len == 5 && strcmp(buf.data, "12345") == 0);
    CHECK(cu_buf_printf(&buf, "%d", 678) == 0 && buf.len == 8);
    cu_buf_free(&buf);

    struct cu_err err;
    CHECK(cu_err_set(&err, 2, "x %d", 1) == -1 && err.errnum == 2);
    CHECK_STR(err.msg, "x 1");
    CHECK_STR(cu_errno_name(2), "ENOENT");
    return check_result();
}
