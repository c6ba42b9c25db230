/*
 * audit.h: "hushd audit": judges what a packet capture shows a device
 * doing, with the same policy as the live daemon.
 *
 * Reads pcap and pcapng files with libpcap (Ethernet with VLAN tags, Linux
 * cooked SLL and SLL2, raw IP, BSD loopback; IPv4 and IPv6). Every DNS
 * query over UDP and its answer, every TLS ClientHello over TCP (segments
 * put back in order) and every QUIC Initial over UDP is judged as hushd
 * would judge it live, and written as an event line (the live schema,
 * with the packet's time). At the end comes a report per device.
 */
#ifndef HUSHD_AUDIT_H
#define HUSHD_AUDIT_H

#include <stdbool.h>
#include <stdio.h>

struct audit;
struct policy;
struct report;

/* argv[0] is "audit". Returns the exit status. */
int audit_main(int argc, char **argv, const char *default_conf);

/*
 * The parts, for tests and fuzzing: an audit judging with policy (a
 * reference is taken), events on stdout when print_events; captures read
 * one after another (from path, or from f when not NULL); then the report,
 * owned by the audit until audit_free().
 */
struct audit *audit_new(struct policy *policy, const char *source,
    bool print_events);
bool audit_read(struct audit *a, const char *path, FILE *f);
struct report *audit_finish(struct audit *a);
void audit_free(struct audit *a);

#endif
