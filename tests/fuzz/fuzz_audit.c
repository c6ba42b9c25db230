/*
 * fuzz_audit.c: libFuzzer target for "hushd audit": the input is a
 * capture file (pcap or pcapng) read through libpcap, then every layer
 * hushd parses itself: link-layer headers, IPv4/IPv6, UDP/TCP, DNS
 * queries and answers, TCP reassembly of ClientHellos, QUIC Initials,
 * and the report over the events that came out.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "conf.h"
#include "policy.h"

static const char conf_text[] =
    "listen 127.0.0.1:5300\n"
    "upstream 127.0.0.1\n"
    "group default {\n sni-missing log\n unresolved-ip log\n}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy *policy;
	struct audit *a;
	char err[256];
	FILE *f;

	if (policy == NULL) {
		struct conf *conf = conf_parse("fuzz.conf", conf_text,
		    sizeof(conf_text) - 1, "/dev/null", err, sizeof(err));
		if (conf == NULL || (policy = policy_build(conf, NULL, NULL,
		    err, sizeof(err))) == NULL)
			return 0;
	}
	if (size == 0 || (f = fmemopen((void *)data, size, "rb")) == NULL)
		return 0;
	a = audit_new(policy, "fuzz", false);
	audit_read(a, "fuzz", f);
	audit_finish(a);
	audit_free(a);
	return 0;
}
