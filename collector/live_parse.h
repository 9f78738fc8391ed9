/*
 * live_parse: pure parsers for the text and records the kernel exposes under /proc, used by
 * live capture and unit-tested on captured samples. No I/O here.
 *
 * Owner: live capture.
 */
#ifndef CUSTODY_LIVE_PARSE_H
#define CUSTODY_LIVE_PARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* One line of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6} (not the header). proto is "tcp",
 * "udp", "raw"; v6 says which table. Returns a new object {proto, family, local_address,
 * local_port, remote_address, remote_port, state, listening, uid, inode}, or NULL. */
json_t *lp_inet_line(const char *line, const char *proto, int v6);
/* One line of /proc/net/unix (not the header): {proto:"unix", type, state, inode, path,
 * listening}. */
json_t *lp_unix_line(const char *line);
/* TCP state name for the kernel's number ("LISTEN" for 10), or "UNKNOWN". */
const char *lp_tcp_state(unsigned st);

/* One line of /proc/net/route (not the header): {interface, destination, gateway, mask,
 * flags, metric, up, gateway_route}. */
json_t *lp_route_line(const char *line);
/* One line of /proc/net/ipv6_route: {interface, destination, prefix_length, gateway, metric,
 * flags}. */
json_t *lp_route6_line(const char *line);
/* One line of /proc/net/arp (not the header): {address, hw_type, flags, mac, device}. */
json_t *lp_arp_line(const char *line);

/* One line of /proc/modules: {name, size, refcount, depends[], state, taint, taint_flags[]}. */
json_t *lp_module_line(const char *line);
/* The kernel taint mask (/proc/sys/kernel/tainted) as an array of {bit, letter, meaning}. */
json_t *lp_taint_decode(unsigned long mask);

/* One utmp/wtmp/btmp record (the glibc x86-64 layout, 384 bytes): {type, pid, line, id,
 * user, host, session, time, address}; NULL for a record that is not of that size. */
json_t *lp_utmp_record(const void *rec, size_t len);
#define LP_UTMP_SIZE 384

/* The fields after "pid (comm)" in /proc/PID/stat: comm (NUL-terminated, at most 64 bytes)
 * and the numeric fields 3.. into f[0..n). Returns the count parsed, or -1. */
int lp_stat_fields(const char *stat, char comm[64], unsigned long long *f, int n);

#endif
