/*
 * live_parse: see live_parse.h.
 */
#define _GNU_SOURCE
#include "live_parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utmp.h>

#include "util.h"

static const char *const tcp_states[] = {
    "UNKNOWN",   "ESTABLISHED", "SYN_SENT", "SYN_RECV",   "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE",     "CLOSE_WAIT",  "LAST_ACK", "LISTEN",     "CLOSING",   "NEW_SYN_RECV",
};

const char *lp_tcp_state(unsigned st)
{
    return st < sizeof tcp_states / sizeof tcp_states[0] ? tcp_states[st] : "UNKNOWN";
}

/* "0100007F:1F90" (v4) or 32 hex digits + ":PORT" (v6) -> text address and port. */
static int addr_port(const char *s, int v6, char *out, size_t outsz, unsigned *port)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return -1;
    size_t hexlen = (size_t)(colon - s);
    if (hexlen != (v6 ? 32u : 8u))
        return -1;
    unsigned char bytes[16];
    for (size_t w = 0; w < hexlen / 8; w++) {
        char word[9];
        memcpy(word, s + w * 8, 8);
        word[8] = '\0';
        char *end;
        uint32_t v = (uint32_t)strtoul(word, &end, 16);
        if (*end)
            return -1;
        memcpy(bytes + w * 4, &v, 4); /* the kernel prints each word in host byte order */
    }
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, out, (socklen_t)outsz))
        return -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 16);
    if (end == colon + 1 || p > 65535)
        return -1;
    *port = (unsigned)p;
    return 0;
}

json_t *lp_inet_line(const char *line, const char *proto, int v6)
{
    char local[80], remote[80];
    unsigned st, uid;
    unsigned long long inode;
    /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
    if (sscanf(line, " %*u: %79s %79s %x %*x:%*x %*x:%*x %*x %u %*u %llu", local, remote, &st, &uid,
               &inode) != 5)
        return NULL;
    char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
    unsigned lport, rport;
    if (addr_port(local, v6, la, sizeof la, &lport) || addr_port(remote, v6, ra, sizeof ra, &rport))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "proto", json_string(proto));
    json_object_set_new(o, "family", json_string(v6 ? "inet6" : "inet"));
    json_object_set_new(o, "local_address", json_string(la));
    json_object_set_new(o, "local_port", json_integer(lport));
    json_object_set_new(o, "remote_address", json_string(ra));
    json_object_set_new(o, "remote_port", json_integer(rport));
    int listening;
    if (!strcmp(proto, "tcp")) {
        json_object_set_new(o, "state", json_string(lp_tcp_state(st)));
        listening = st == 10;
    } else {
        /* udp and raw: "listening" = bound and not connected to a peer */
        json_object_set_new(o, "state", json_string(st == 1 ? "ESTABLISHED" : "UNCONN"));
        listening = rport == 0 && st != 1;
    }
    json_object_set_new(o, "listening", json_boolean(listening));
    json_object_set_new(o, "uid", json_integer(uid));
    json_object_set_new(o, "inode", json_integer((json_int_t)inode));
    return o;
}

static json_t *ipv4_hex(const char *hex)
{
    char *end;
    uint32_t v = (uint32_t)strtoul(hex, &end, 16);
    char a[INET_ADDRSTRLEN];
    if (*end || !inet_ntop(AF_INET, &v, a, sizeof a)) /* the kernel prints host byte order */
        return json_null();
    return json_string(a);
}

json_t *lp_route_line(const char *line)
{
    char ifc[64], dst[16], gw[16], mask[16];
    unsigned flags, metric;
    if (sscanf(line, "%63s %15s %15s %x %*d %*d %u %15s", ifc, dst, gw, &flags, &metric, mask) != 6)
        return NULL;
    if (!strcmp(ifc, "Iface"))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "interface", json_string(ifc));
    json_object_set_new(o, "destination", ipv4_hex(dst));
    json_object_set_new(o, "gateway", ipv4_hex(gw));
    json_object_set_new(o, "mask", ipv4_hex(mask));
    json_object_set_new(o, "flags", json_integer(flags));
    json_object_set_new(o, "metric", json_integer(metric));
    json_object_set_new(o, "up", json_boolean(flags & 1));
    json_object_set_new(o, "gateway_route", json_boolean(flags & 2));
    return o;
}

static json_t *ipv6_hex(const char *hex)
{
    if (strlen(hex) != 32)
        return json_null();
    unsigned char b[16];
    for (int i = 0; i < 16; i++) {
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        char *end;
        b[i] = (unsigned char)strtoul(two, &end, 16);
        if (*end)
            return json_null();
    }
    char a[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, b, a, sizeof a) ? json_string(a) : json_null();
}

json_t *lp_route6_line(const char *line)
{
    char dst[40], src[40], gw[40], ifc[64];
    unsigned plen, slen, metric, refs, use, flags;
    if (sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", dst, &plen, src, &slen, gw, &metric,
               &refs, &use, &flags, ifc) != 10)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "interface", json_string(ifc));
    json_object_set_new(o, "destination", ipv6_hex(dst));
    json_object_set_new(o, "prefix_length", json_integer(plen));
    json_object_set_new(o, "gateway", ipv6_hex(gw));
    json_object_set_new(o, "metric", json_integer(metric));
    json_object_set_new(o, "flags", json_integer(flags));
    return o;
}

json_t *lp_arp_line(const char *line)
{
    char ip[64], hw[16], fl[16], mac[64], mask[16], dev[64];
    if (sscanf(line, "%63s %15s %15s %63s %15s %63s", ip, hw, fl, mac, mask, dev) != 6 ||
        !strcmp(ip, "IP"))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "address", json_string(ip));
    json_object_set_new(o, "hw_type", json_integer(strtol(hw, NULL, 16)));
    json_object_set_new(o, "flags", json_integer(strtol(fl, NULL, 16)));
    json_object_set_new(o, "mac", json_string(mac));
    json_object_set_new(o, "device", json_string(dev));
    return o;
}

json_t *lp_unix_line(const char *line)
{
    /* Num RefCount Protocol Flags Type St Inode [Path] */
    unsigned long flags;
    unsigned type, st;
    unsigned long long inode;
    int off = 0;
    if (sscanf(line, "%*x: %*x %*x %lx %x %x %llu%n", &flags, &type, &st, &inode, &off) != 4)
        return NULL;
    const char *path = line + off;
    while (*path == ' ')
        path++;
    size_t plen = strcspn(path, "\n");
    json_t *o = json_object();
    json_object_set_new(o, "proto", json_string("unix"));
    const char *tn = type == 1 ? "stream" : type == 2 ? "dgram" : type == 5 ? "seqpacket" : "other";
    json_object_set_new(o, "type", json_string(tn));
    const char *sn = st == 1 ? "UNCONNECTED" : st == 2 ? "CONNECTING" : st == 3 ? "CONNECTED"
                   : st == 4 ? "DISCONNECTING" : "FREE";
    json_object_set_new(o, "state", json_string(sn));
    json_object_set_new(o, "listening", json_boolean((flags & 0x10000) != 0)); /* __SO_ACCEPTCON */
    json_object_set_new(o, "inode", json_integer((json_int_t)inode));
    if (plen) {
        char *lossy = cu_utf8_lossy(path, plen);
        json_object_set_new(o, "path", json_string(lossy));
        free(lossy);
    } else {
        json_object_set_new(o, "path", json_null());
    }
    return o;
}

static const struct {
    char letter;
    const char *meaning;
} taints[] = {
    {'P', "proprietary module"}, {'F', "module force loaded"}, {'S', "SMP unsafe"},
    {'R', "module force unloaded"}, {'M', "machine check"}, {'B', "bad page"},
    {'U', "user request"}, {'D', "kernel died recently"}, {'A', "ACPI table overridden"},
    {'W', "kernel warning"}, {'C', "staging driver"}, {'I', "firmware workaround"},
    {'O', "out-of-tree module"}, {'E', "unsigned module"}, {'L', "soft lockup"},
    {'K', "live patched"}, {'X', "auxiliary"}, {'T', "randstruct"}, {'N', "in-kernel test"},
};

json_t *lp_taint_decode(unsigned long mask)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < sizeof taints / sizeof taints[0]; i++)
        if (mask & (1ul << i)) {
            json_t *t = json_object();
            json_object_set_new(t, "bit", json_integer(i));
            json_object_set_new(t, "letter", json_stringn(&taints[i].letter, 1));
            json_object_set_new(t, "meaning", json_string(taints[i].meaning));
            json_array_append_new(a, t);
        }
    return a;
}

json_t *lp_module_line(const char *line)
{
    char name[256], deps[4096], state[32];
    unsigned long long size;
    int refs, off = 0;
    if (sscanf(line, "%255s %llu %d %4095s %31s %*s%n", name, &size, &refs, deps, state, &off) != 5)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "size", json_integer((json_int_t)size));
    json_object_set_new(o, "refcount", json_integer(refs));
    json_t *d = json_array();
    if (strcmp(deps, "-") != 0) {
        char *save = NULL;
        for (char *t = strtok_r(deps, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(d, json_string(t));
    }
    json_object_set_new(o, "depends", d);
    json_object_set_new(o, "state", json_string(state));
    const char *p = off ? line + off : "";
    const char *open = strchr(p, '(');
    json_t *flags = json_array();
    char taint[32] = "";
    if (open) {
        size_t n = strcspn(open + 1, ")");
        if (n < sizeof taint) {
            memcpy(taint, open + 1, n);
            taint[n] = '\0';
        }
        for (size_t i = 0; taint[i]; i++)
            for (unsigned k = 0; k < sizeof taints / sizeof taints[0]; k++)
                if (taints[k].letter == taint[i])
                    json_array_append_new(flags, json_string(taints[k].meaning));
    }
    json_object_set_new(o, "taint", json_string(taint));
    json_object_set_new(o, "taint_flags", flags);
    return o;
}

static json_t *fixed_str(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *l = cu_utf8_lossy(s, n);
    json_t *j = json_string(l);
    free(l);
    return j;
}

json_t *lp_utmp_record(const void *rec, size_t len)
{
    if (len != sizeof(struct utmp) || len != LP_UTMP_SIZE)
        return NULL;
    struct utmp u;
    memcpy(&u, rec, sizeof u);
    static const char *const types[] = {"EMPTY", "RUN_LVL", "BOOT_TIME", "NEW_TIME", "OLD_TIME",
                                        "INIT_PROCESS", "LOGIN_PROCESS", "USER_PROCESS",
                                        "DEAD_PROCESS", "ACCOUNTING"};
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(u.ut_type >= 0 && u.ut_type <= 9 ? types[u.ut_type]
                                                                                 : "UNKNOWN"));
    json_object_set_new(o, "pid", json_integer(u.ut_pid));
    json_object_set_new(o, "line", fixed_str(u.ut_line, sizeof u.ut_line));
    json_object_set_new(o, "id", fixed_str(u.ut_id, sizeof u.ut_id));
    json_object_set_new(o, "user", fixed_str(u.ut_user, sizeof u.ut_user));
    json_object_set_new(o, "host", fixed_str(u.ut_host, sizeof u.ut_host));
    json_object_set_new(o, "session", json_integer(u.ut_session));
    struct timespec ts = {(time_t)u.ut_tv.tv_sec, (long)u.ut_tv.tv_usec * 1000};
    char t[CU_TIME_MAX];
    cu_time_format(&ts, t);
    json_object_set_new(o, "time", json_string(t));
    char addr[INET6_ADDRSTRLEN] = "";
    if (u.ut_addr_v6[1] || u.ut_addr_v6[2] || u.ut_addr_v6[3])
        inet_ntop(AF_INET6, u.ut_addr_v6, addr, sizeof addr);
    else if (u.ut_addr_v6[0])
        inet_ntop(AF_INET, u.ut_addr_v6, addr, sizeof addr);
    json_object_set_new(o, "address", addr[0] ? json_string(addr) : json_null());
    return o;
}

int lp_stat_fields(const char *stat, char comm[64], unsigned long long *f, int n)
{
    const char *open = strchr(stat, '(');
    const char *close = strrchr(stat, ')');
    if (!open || !close || close < open)
        return -1;
    size_t cl = (size_t)(close - open - 1);
    if (cl > 63)
        cl = 63;
    memcpy(comm, open + 1, cl);
    comm[cl] = '\0';
    const char *p = close + 1;
    int k = 0;
    while (*p == ' ')
        p++;
    if (*p && k < n) { /* field 3: state, a letter */
        f[k++] = (unsigned char)*p;
        p++;
    }
    while (k < n && *p) {
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n')
            break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        f[k++] = (unsigned long long)v;
        p = end;
    }
    return k;
}
