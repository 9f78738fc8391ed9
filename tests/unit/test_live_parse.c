/* Unit tests for the /proc parsers on captured and hand-made samples: /proc/net/tcp, tcp6,
 * udp and unix lines, /proc/PID/stat with a hostile comm, /proc/modules with taint flags, the
 * kernel taint mask, and utmp records written by the test itself. */
#include <arpa/inet.h>
#include <string.h>
#include <utmp.h>

#include "check.h"
#include "live_parse.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}
static long long num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

int main(void)
{
    /* captured from this machine's /proc/net/tcp: a LISTEN socket on 0.0.0.0:2024 */
    json_t *o = lp_inet_line("   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 "
                             "00000000     0        0 1057 1 00000000f08241a4 100 0 0 10 0",
                             "tcp", 0);
    CHECK(o != NULL);
    CHECK_STR(str(o, "local_address"), "0.0.0.0");
    CHECK(num(o, "local_port") == 2024 && num(o, "inode") == 1057 && num(o, "uid") == 0);
    CHECK_STR(str(o, "state"), "LISTEN");
    CHECK(json_is_true(json_object_get(o, "listening")));
    json_decref(o);
    /* 127.0.0.1:8080 -> 127.0.0.1:45678 ESTABLISHED, uid 1000 */
    o = lp_inet_line("   1: 0100007F:1F90 0100007F:B26E 01 00000000:00000000 00:00000000 00000000  "
                     "1000        0 424242 1 0000000000000000 20 4 30 10 -1", "tcp", 0);
    CHECK(o && !strcmp(str(o, "local_address"), "127.0.0.1") && num(o, "local_port") == 8080);
    CHECK(o && num(o, "remote_port") == 45678 && !strcmp(str(o, "state"), "ESTABLISHED"));
    CHECK(o && json_is_false(json_object_get(o, "listening")) && num(o, "uid") == 1000);
    json_decref(o);
    /* tcp6 ::1 port 22 LISTEN */
    o = lp_inet_line("   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 "
                     "0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0 100 0 0 10 0",
                     "tcp", 1);
    CHECK(o && !strcmp(str(o, "local_address"), "::1") && num(o, "local_port") == 22);
    CHECK(o && !strcmp(str(o, "family"), "inet6"));
    json_decref(o);
    /* tcp6 ::ffff:127.0.0.1 port 443 */
    o = lp_inet_line("   2: 0000000000000000FFFF00000100007F:01BB 00000000000000000000000000000000:0000 "
                     "0A 00000000:00000000 00:00000000 00000000     0        0 7777 1 0 100 0 0 10 0",
                     "tcp", 1);
    CHECK(o && !strcmp(str(o, "local_address"), "::ffff:127.0.0.1") && num(o, "local_port") == 443);
    json_decref(o);
    /* udp bound, unconnected = listening */
    o = lp_inet_line("  12: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   "
                     "101        0 9999 2 0000000000000000 0", "udp", 0);
    CHECK(o && !strcmp(str(o, "local_address"), "127.0.0.53") && num(o, "local_port") == 53);
    CHECK(o && json_is_true(json_object_get(o, "listening")));
    json_decref(o);
    CHECK(lp_inet_line("  sl  local_address rem_address   st tx_queue", "tcp", 0) == NULL);
    CHECK(lp_inet_line("   0: 0000:07E8 00000000:0000 0A 0:0 0:0 0 0 0 1", "tcp", 0) == NULL);

    /* unix: a captured connected stream, and a listening one with a path */
    o = lp_unix_line("00000000e9f45849: 00000003 00000000 00000000 0001 03  1053");
    CHECK(o && !strcmp(str(o, "type"), "stream") && !strcmp(str(o, "state"), "CONNECTED"));
    CHECK(o && num(o, "inode") == 1053 && json_is_null(json_object_get(o, "path")));
    json_decref(o);
    o = lp_unix_line("0000000000000000: 00000002 00000000 00010000 0001 01 20817 /run/systemd/private\n");
    CHECK(o && json_is_true(json_object_get(o, "listening")));
    CHECK(o && !strcmp(str(o, "path"), "/run/systemd/private"));
    json_decref(o);

    /* /proc/PID/stat with a comm holding spaces and parentheses */
    char comm[64];
    unsigned long long f[24];
    int n = lp_stat_fields("4242 (evil) (x y) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 "
                           "2 0 123456 8192000 512 18446744073709551615", comm, f, 24);
    CHECK_STR(comm, "evil) (x y");
    CHECK(n >= 22 && f[0] == 'S' && f[1] == 1 && f[17] == 2 && f[19] == 123456);
    CHECK(f[20] == 8192000 && f[21] == 512);
    CHECK(lp_stat_fields("garbage", comm, f, 24) == -1);

    /* routes and neighbours, captured from this machine */
    o = lp_route_line("eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0");
    CHECK(o && !strcmp(str(o, "destination"), "0.0.0.0") && !strcmp(str(o, "gateway"), "192.0.2.1"));
    CHECK(o && json_is_true(json_object_get(o, "gateway_route")) && !strcmp(str(o, "interface"), "eth0"));
    json_decref(o);
    o = lp_route_line("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0");
    CHECK(o && !strcmp(str(o, "destination"), "192.0.2.0") && !strcmp(str(o, "mask"), "255.255.255.0"));
    json_decref(o);
    CHECK(lp_route_line("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask") == NULL);
    o = lp_route6_line("fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
                       "00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0");
    CHECK(o && !strcmp(str(o, "destination"), "fe80::") && num(o, "prefix_length") == 64);
    CHECK(o && num(o, "metric") == 256 && !strcmp(str(o, "interface"), "eth0"));
    json_decref(o);
    o = lp_arp_line("192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0");
    CHECK(o && !strcmp(str(o, "address"), "192.0.2.1") && !strcmp(str(o, "mac"), "02:fc:00:00:00:05"));
    CHECK(o && num(o, "flags") == 2 && !strcmp(str(o, "device"), "eth0"));
    json_decref(o);
    CHECK(lp_arp_line("IP address       HW type     Flags       HW address            Mask     Device") == NULL);

    /* modules with taint flags */
    o = lp_module_line("rootkit 16384 0 - Live 0xffffffffc0a00000 (OE)\n");
    CHECK(o && !strcmp(str(o, "name"), "rootkit") && !strcmp(str(o, "taint"), "OE"));
    CHECK(o && json_array_size(json_object_get(o, "taint_flags")) == 2);
    CHECK(o && !strcmp(json_string_value(json_array_get(json_object_get(o, "taint_flags"), 0)),
                       "out-of-tree module"));
    json_decref(o);
    o = lp_module_line("ext4 1060864 1 mbcache,jbd2, Live 0x0000000000000000\n");
    CHECK(o && json_array_size(json_object_get(o, "depends")) == 2 && !strcmp(str(o, "taint"), ""));
    json_decref(o);
    o = lp_taint_decode((1ul << 12) | (1ul << 13) | 1ul);
    CHECK(json_array_size(o) == 3);
    CHECK_STR(str(json_array_get(o, 1), "letter"), "O");
    json_decref(o);

    /* utmp records */
    struct utmp u;
    memset(&u, 0, sizeof u);
    u.ut_type = USER_PROCESS;
    u.ut_pid = 1234;
    strcpy(u.ut_line, "pts/0");
    strcpy(u.ut_user, "alice");
    strcpy(u.ut_host, "203.0.113.7");
    u.ut_tv.tv_sec = 1614211200;
    u.ut_tv.tv_usec = 5;
    inet_pton(AF_INET, "203.0.113.7", &u.ut_addr_v6[0]);
    CHECK(sizeof u == LP_UTMP_SIZE);
    o = lp_utmp_record(&u, sizeof u);
    CHECK(o && !strcmp(str(o, "type"), "USER_PROCESS") && num(o, "pid") == 1234);
    CHECK(o && !strcmp(str(o, "user"), "alice") && !strcmp(str(o, "line"), "pts/0"));
    CHECK(o && !strcmp(str(o, "time"), "2021-02-25T00:00:00.000005000Z"));
    CHECK(o && !strcmp(str(o, "address"), "203.0.113.7"));
    json_decref(o);
    memset(u.ut_user, 'A', sizeof u.ut_user); /* not NUL-terminated: bounded */
    u.ut_type = 42;
    o = lp_utmp_record(&u, sizeof u);
    CHECK(o && strlen(str(o, "user")) == sizeof u.ut_user && !strcmp(str(o, "type"), "UNKNOWN"));
    json_decref(o);
    CHECK(lp_utmp_record(&u, 100) == NULL);
    return check_result();
}
