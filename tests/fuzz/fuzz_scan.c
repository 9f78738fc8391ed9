/* libFuzzer target: hostile file content through the content tests of the embedded
 * exchange-proxylogon and linux-triage profiles (signatures as ASCII and UTF-16LE, any and
 * all, line patterns with CRLF, long lines, max_hits), fed in pieces whose sizes come from
 * the input, as the reader's buffers would fall. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "profile.h"
#include "scan.h"

static void drop(void *ctx, const struct prof_rule *r, long line, const char *excerpt,
                 const char *description)
{
    (void)ctx, (void)r, (void)line, (void)description;
    volatile size_t n = excerpt ? strlen(excerpt) : 0; /* the excerpt must be a C string */
    (void)n;
}

static struct prof_profile *prof[2];
static struct scan *sc[2];
static struct prof_match m;

static const char *const paths[] = {
    "/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/x.log",
    "/Program Files/Microsoft/Exchange Server/V15/Logging/ECP/Server/x.log",
    "/Program Files/Microsoft/Exchange Server/V15/Logging/OABGeneratorLog/x.log",
    "/Windows/System32/winevt/Logs/Application.evtx",
    "/inetpub/wwwroot/aspnet_client/x.aspx",
    "/var/www/html/x.php",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prof[0]) {
        struct cu_err err;
        if (prof_load_embedded("exchange-proxylogon", NULL, &prof[0], &err) != 0 ||
            prof_load_embedded("linux-triage", NULL, &prof[1], &err) != 0)
            __builtin_trap();
        sc[0] = scan_new(prof[0]);
        sc[1] = scan_new(prof[1]);
    }
    if (size < 2)
        return 0;
    size_t which = data[0] % (sizeof paths / sizeof paths[0]);
    size_t step = (size_t)data[1] + 1;
    data += 2;
    size -= 2;
    int pi = which == 5;
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | 0644;
    st.st_size = (off_t)size;
    if (!prof_select(prof[pi], paths[which], strlen(paths[which]), &st, NULL, &m))
        return 0;
    if (!scan_begin(sc[pi], &m, drop, NULL))
        return 0;
    for (size_t off = 0; off < size; off += step)
        scan_feed(sc[pi], data + off, off + step > size ? size - off : step);
    char dg[DG_COUNT][DG_HEX_MAX] = {{0}};
    scan_end(sc[pi], (const char(*)[DG_HEX_MAX])dg, 0);
    return 0;
}
