/*
 * test_policy.c: snapshots built from a configuration and real list files,
 * and the decisions made with them: groups, devices, allowlist, block
 * before log, and a list that cannot be read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "explain.h"
#include "policy.h"

static char dir[] = "/tmp/hushd-policy-XXXXXX";
static char err[1024];

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	write_file("ads.txt", "ads.example\n||tracker.example^\n");
	write_file("tel.txt", "# telemetry\ntelemetry.example\n"
	    "0.0.0.0 metrics.vendor.example\n");
	write_file("allow.txt", "good.tracker.example\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct policy *
build(const char *text)
{
	char path[512];
	struct conf *conf;

	snprintf(path, sizeof(path), "%s/hushd.conf", dir);
	conf = conf_parse(path, text, strlen(text), "/dev/null", err,
	    sizeof(err));
	if (conf == NULL)
		fail_msg("configuration refused: %s", err);
	return policy_build(conf, NULL, NULL, err, sizeof(err));
}

static struct sockaddr_storage
client(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &sin6->sin6_addr);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, text, &sin->sin_addr);
	}
	return ss;
}

static void
judge_ident(const struct policy *p, struct client_ident *ident,
    const char *name, struct verdict *v)
{
	policy_query(p, ident, name, strlen(name), v);
}

static void
judge(const struct policy *p, const char *who, const char *name,
    struct verdict *v)
{
	struct sockaddr_storage ss = client(who);
	struct client_ident ident = { .addr = (struct sockaddr *)&ss };

	judge_ident(p, &ident, name, v);
}

/* A client known by its MAC, with sibling addresses (NULL-terminated). */
static void
judge_mac(const struct policy *p, const char *who, const char *mac,
    const char **siblings, const char *name, struct verdict *v)
{
	struct sockaddr_storage ss = client(who);
	struct client_ident ident = { .addr = (struct sockaddr *)&ss };

	ident.has_mac = conf_parse_mac(mac, ident.mac);
	assert_true(ident.has_mac);
	for (; siblings != NULL && *siblings != NULL; siblings++)
		ident.siblings[ident.n_siblings++] = client(*siblings);
	judge_ident(p, &ident, name, v);
}

#define BASE "listen 127.0.0.1:5300\nupstream 192.0.2.53\n" \
	"list ads ads.txt\nlist tel tel.txt\n"

static void
test_without_groups_every_list_blocks(void **state)
{
	(void)state;
	struct policy *p = build(BASE);
	struct verdict v;

	assert_non_null(p);
	judge(p, "192.168.1.5", "x.tracker.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_int_equal(v.reason, POLICY_REASON_LIST);
	assert_string_equal(v.list, "ads");
	assert_string_equal(v.rule, "tracker.example");
	assert_int_equal(v.line, 2);
	assert_string_equal(v.group, "default");
	assert_null(v.device);

	judge(p, "192.168.1.5", "metrics.vendor.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.list, "tel");
	assert_int_equal(v.line, 3);

	judge(p, "192.168.1.5", "example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	assert_int_equal(v.reason, POLICY_REASON_NONE);
	assert_null(v.list);
	judge(p, "192.168.1.5", "notads.example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	policy_unref(p);
}

static void
test_groups_devices_and_log_lists(void **state)
{
	(void)state;
	struct policy *p = build(BASE
	    "device tv 192.168.1.23\n"
	    "device lan 192.168.1.0/24\n"
	    "device phone fd00::7\n"
	    "group iot {\n clients tv\n block ads\n log tel\n}\n"
	    "group phones {\n clients phone\n log ads tel\n}\n"
	    "group default {\n block tel\n}\n");
	struct verdict v;

	assert_non_null(p);
	judge(p, "192.168.1.23", "ads.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.group, "iot");
	assert_string_equal(v.device, "tv");	/* the more specific device */
	judge(p, "192.168.1.23", "telemetry.example", &v);
	assert_int_equal(v.action, POLICY_LOG);
	assert_string_equal(v.list, "tel");

	judge(p, "fd00::7", "a.ads.example", &v);
	assert_int_equal(v.action, POLICY_LOG);
	assert_string_equal(v.group, "phones");
	assert_string_equal(v.device, "phone");

	/* IPv4-mapped IPv6 clients are the IPv4 client. */
	judge(p, "::ffff:192.168.1.23", "ads.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.group, "iot");

	judge(p, "192.168.1.50", "ads.example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	assert_string_equal(v.group, "default");
	assert_string_equal(v.device, "lan");
	judge(p, "192.168.1.50", "telemetry.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	policy_unref(p);
}

static void
test_block_wins_over_log(void **state)
{
	(void)state;
	write_file("both.txt", "telemetry.example\n");
	struct policy *p = build(BASE "list both both.txt\n"
	    "group default {\n log tel\n block both\n}\n");
	struct verdict v;

	assert_non_null(p);
	judge(p, "10.0.0.1", "telemetry.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.list, "both");
	policy_unref(p);
}

static void
test_allowlist_wins(void **state)
{
	(void)state;
	struct policy *p = build(BASE "allowlist allow.txt\n");
	struct verdict v;

	assert_non_null(p);
	judge(p, "10.0.0.1", "good.tracker.example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	assert_true(v.allowlisted);
	judge(p, "10.0.0.1", "x.good.tracker.example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	judge(p, "10.0.0.1", "bad.tracker.example", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_false(v.allowlisted);
	policy_unref(p);
}

static void
test_doh_canary(void **state)
{
	(void)state;
	struct policy *p = build(BASE);
	struct verdict v;

	assert_non_null(p);
	judge(p, "10.0.0.1", "use-application-dns.net", &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_int_equal(v.reason, POLICY_REASON_CANARY);
	assert_string_equal(policy_reason_name(v.reason), "canary");
	judge(p, "10.0.0.1", "x.use-application-dns.net", &v);
	assert_int_equal(v.action, POLICY_PASS);
	policy_unref(p);
	p = build(BASE "doh-canary no\n");
	assert_non_null(p);
	judge(p, "10.0.0.1", "use-application-dns.net", &v);
	assert_int_equal(v.action, POLICY_PASS);
	policy_unref(p);
}

/* explain_name's text for name asked by who; its action in *action. */
static char *
explain_text(const struct policy *p, const char *who, const char *name,
    bool json, enum policy_action *action)
{
	struct sockaddr_storage ss;
	struct client_ident ident;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_true(explain_client(who, &ss, &ident));
	assert_true(explain_name(p, &ident, name, json, f, action));
	fclose(f);
	return text;
}

static void
test_explain_lists_every_rule(void **state)
{
	(void)state;
	enum policy_action action;
	char *text;

	write_file("more.txt", "# more\nx.ads.example\n*.ads.example\n"
	    "@@||y.x.ads.example^\n");
	struct policy *p = build(BASE "list more more.txt\n"
	    "allowlist allow.txt\n"
	    "device kid 10.0.0.9\n"
	    "group kids {\n clients kid\n block tel\n log ads\n}\n");
	assert_non_null(p);

	/* The default group blocks every list: three rules of two lists. */
	text = explain_text(p, "10.0.0.1", "Y.X.Ads.Example.", false, &action);
	assert_int_equal(action, POLICY_BLOCK);
	assert_non_null(strstr(text, "y.x.ads.example: block\n"));
	assert_non_null(strstr(text, "group default"));
	assert_non_null(strstr(text, "ads.txt:1\n"));
	assert_non_null(strstr(text, "x.ads.example"));
	assert_non_null(strstr(text, "more.txt:2\n"));
	assert_non_null(strstr(text, "*.ads.example"));
	assert_non_null(strstr(text, "more.txt:3\n"));
	assert_non_null(strstr(text, "exception"));
	assert_non_null(strstr(text, "@@y.x.ads.example"));
	assert_non_null(strstr(text, "more.txt:4\n"));
	free(text);

	/* For the kid, ads only logs and more is not used at all. */
	text = explain_text(p, "10.0.0.9", "x.ads.example", false, &action);
	assert_int_equal(action, POLICY_LOG);
	assert_non_null(strstr(text, "device kid, group kids"));
	assert_non_null(strstr(text, "log       ads"));
	assert_non_null(strstr(text, "unused    more"));
	free(text);

	text = explain_text(p, NULL, "good.tracker.example", true, &action);
	assert_int_equal(action, POLICY_PASS);
	assert_non_null(strstr(text, "\"reason\":\"allowlist\""));
	assert_non_null(strstr(text, "{\"list\":\"allowlist\",\"role\":"
	    "\"allow\",\"rule\":\"good.tracker.example\""));
	assert_non_null(strstr(text, "{\"list\":\"ads\",\"role\":\"block\","
	    "\"rule\":\"tracker.example\""));
	free(text);

	text = explain_text(p, NULL, "www.example", false, &action);
	assert_int_equal(action, POLICY_PASS);
	assert_non_null(strstr(text, "(none)"));
	free(text);
	policy_unref(p);
}

static void
test_unreadable_list_fails_the_build(void **state)
{
	(void)state;
	char expected[1024];
	struct policy *p = build(BASE "list gone gone.txt\n");

	assert_null(p);
	snprintf(expected, sizeof(expected),
	    "%s/hushd.conf:5: list gone: %s/gone.txt: No such file or directory",
	    dir, dir);
	assert_string_equal(err, expected);

	p = build(BASE "allowlist nothere.txt\n");
	assert_null(p);
	assert_non_null(strstr(err, "allowlist: "));
	assert_non_null(strstr(err, "nothere.txt: No such file or directory"));
}

static void
test_devices_by_mac_and_siblings(void **state)
{
	(void)state;
	const char *v4[] = { "192.168.1.40", NULL };
	struct policy *p = build(BASE
	    "device phone 64:09:80:12:34:56\n"
	    "device tv 192.168.1.23\n"
	    "group kids {\n clients phone\n block ads tel\n}\n"
	    "group iot {\n clients tv\n block tel\n}\n"
	    "group default {\n log ads\n}\n");
	struct verdict v;

	assert_non_null(p);
	/* The phone over a rotating IPv6 address: same device, same group. */
	judge_mac(p, "fd00::1234:5678", "64:09:80:12:34:56", v4, "ads.example",
	    &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.device, "phone");
	assert_string_equal(v.group, "kids");
	/* Its MAC wins over whatever address it has today. */
	judge_mac(p, "192.168.1.23", "64-09-80-12-34-56", NULL, "ads.example",
	    &v);
	assert_string_equal(v.device, "phone");
	assert_string_equal(v.group, "kids");
	/* The TV's IPv6 address shares its MAC with 192.168.1.23. */
	const char *tv_v4[] = { "192.168.1.23", NULL };
	judge_mac(p, "fd00::23", "aa:bb:cc:00:00:23", tv_v4, "telemetry.example",
	    &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_string_equal(v.device, "tv");
	assert_string_equal(v.group, "iot");
	/* Unknown MAC and address: the default group. */
	judge_mac(p, "fd00::99", "aa:bb:cc:00:00:99", NULL, "ads.example", &v);
	assert_null(v.device);
	assert_string_equal(v.group, "default");
	assert_int_equal(v.action, POLICY_LOG);
	policy_unref(p);
}

static void
test_cname_chain_judged(void **state)
{
	(void)state;
	struct policy *p = build(BASE "group default {\n block ads\n log tel\n}\n");
	struct dnsreply *reply = calloc(1, sizeof(*reply));
	struct verdict v;

	assert_non_null(p);
	assert_non_null(reply);
	judge(p, "10.0.0.1", "innocent.example", &v);
	assert_int_equal(v.action, POLICY_PASS);
	reply->n_cnames = 2;
	strcpy(reply->cnames[0], "edge.cdn.example");
	strcpy(reply->cnames[1], "eu.tracker.example");
	policy_answer(p, reply, NULL, &v);
	assert_int_equal(v.action, POLICY_BLOCK);
	assert_int_equal(v.reason, POLICY_REASON_CNAME);
	assert_string_equal(v.list, "ads");
	assert_string_equal(v.rule, "tracker.example");

	judge(p, "10.0.0.1", "innocent.example", &v);
	strcpy(reply->cnames[1], "telemetry.example");
	policy_answer(p, reply, NULL, &v);
	assert_int_equal(v.action, POLICY_LOG);
	assert_int_equal(v.reason, POLICY_REASON_CNAME);
	assert_string_equal(v.list, "tel");

	/* An allowlisted name is not judged again by its answer. */
	policy_unref(p);
	write_file("allow2.txt", "innocent.example\n");
	p = build(BASE "allowlist allow2.txt\n");
	judge(p, "10.0.0.1", "innocent.example", &v);
	strcpy(reply->cnames[1], "eu.tracker.example");
	policy_answer(p, reply, NULL, &v);
	assert_int_equal(v.action, POLICY_PASS);
	free(reply);
	policy_unref(p);
}

static void
test_references_and_names(void **state)
{
	(void)state;
	struct policy *p = build(BASE);

	assert_ptr_equal(policy_ref(p), p);
	policy_unref(p);	/* still held once */
	assert_int_equal(atomic_load(&p->refs), 1);
	policy_unref(p);

	assert_string_equal(policy_action_name(POLICY_PASS), "pass");
	assert_string_equal(policy_action_name(POLICY_LOG), "log");
	assert_string_equal(policy_action_name(POLICY_BLOCK), "block");
	assert_null(policy_reason_name(POLICY_REASON_NONE));
	assert_string_equal(policy_reason_name(POLICY_REASON_LIST), "list");
	assert_string_equal(policy_reason_name(POLICY_REASON_ACL), "acl");
	assert_string_equal(policy_reason_name(POLICY_REASON_UNRESOLVED_IP),
	    "unresolved-ip");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_groups_every_list_blocks),
		cmocka_unit_test(test_groups_devices_and_log_lists),
		cmocka_unit_test(test_block_wins_over_log),
		cmocka_unit_test(test_allowlist_wins),
		cmocka_unit_test(test_doh_canary),
		cmocka_unit_test(test_explain_lists_every_rule),
		cmocka_unit_test(test_unreadable_list_fails_the_build),
		cmocka_unit_test(test_devices_by_mac_and_siblings),
		cmocka_unit_test(test_cname_chain_judged),
		cmocka_unit_test(test_references_and_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
