/*
 * conf.h: the configuration language of hushd (see hushd.conf(5)).
 *
 * conf_load() reads a file into a struct conf, or fails with
 * "file:line: what is wrong". It checks syntax and values and references
 * between them (list names in groups, devices in clients); it does not
 * open list files: policy.c does that when it builds a snapshot.
 */
#ifndef HUSHD_CONF_H
#define HUSHD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum block_mode {
	BLOCK_MODE_NULL,	/* 0.0.0.0 / ::, NODATA for other types */
	BLOCK_MODE_NXDOMAIN,
	BLOCK_MODE_REFUSED,
};

struct conf_upstream {
	struct addr	 addr;
	bool		 tls;		/* DNS over TLS (RFC 7858) */
	char		*tls_name;	/* name the certificate must carry */
	char		*ca_file;	/* trust anchors; NULL: the system's */
	unsigned	 line;
	char		 name[ADDR_STRLEN];	/* address:port, for logs */
};

struct conf_list {
	char		*name;
	char		*path;		/* resolved against the config's directory */
	unsigned	 line;
	/* Remote lists: fetched from url into path (under state-dir). */
	char		*url;		/* https://…, or NULL for a local file */
	char		*ca_file;	/* trust anchors; NULL: the system's */
	uint64_t	 refresh_ms;
	uint64_t	 timeout_ms;	/* for one whole download */
	uint64_t	 max_size;	/* bytes */
};

#define CONF_DEFAULT_STATE_DIR	"/var/lib/hushd"
#define CONF_LIST_REFRESH_MS	(86400ULL * 1000)
#define CONF_LIST_TIMEOUT_MS	(60ULL * 1000)
#define CONF_LIST_MAX_SIZE	((uint64_t)64 << 20)

#define CONF_MAC_LEN		6
#define CONF_MAX_UPSTREAMS	64

struct conf_device {
	char		*name;
	bool		 by_mac;	/* else by address or prefix */
	uint8_t		 mac[CONF_MAC_LEN];
	struct cidr	 cidr;
	unsigned	 line;
};

struct conf_client {		/* one member of a group's "clients" */
	long		 device;	/* index into conf.devices, or -1 */
	struct cidr	 cidr;		/* when not a device named by MAC */
	unsigned	 line;
};

/* What to do with a TLS connection that has no SNI, or no DNS answer behind it. */
enum sni_rule {
	SNI_RULE_ALLOW,
	SNI_RULE_LOG,
	SNI_RULE_BLOCK,
};

struct conf_sni_listen {
	struct addr	 listen;
	bool		 forced;	/* "to": every connection goes there */
	struct addr	 to;
	unsigned	 line;
};

struct conf_group {
	char			*name;
	unsigned		 line;
	struct conf_client	*clients;
	size_t			 n_clients;
	size_t			*block;		/* indexes into conf.lists */
	size_t			 n_block;
	size_t			*log;
	size_t			 n_log;
	char			(*block_country)[3];	/* ISO codes, upper case */
	size_t			 n_block_country;
	char			(*log_country)[3];
	size_t			 n_log_country;
	uint32_t		*block_asn;
	size_t			 n_block_asn;
	uint32_t		*log_asn;
	size_t			 n_log_asn;
	enum sni_rule		 sni_missing;
	enum sni_rule		 unresolved_ip;
};

struct conf {
	char			*path;
	unsigned		 workers;	/* 0: one per CPU */
	struct addr		*listen;
	size_t			 n_listen;
	struct conf_upstream	*upstreams;
	size_t			 n_upstreams;
	unsigned		 upstream_timeout_ms;
	unsigned		 query_timeout_ms;
	size_t			 cache_size;
	enum block_mode		 block_mode;
	uint32_t		 block_ttl;
	struct cidr		*allow_clients;	/* none configured: loopback only */
	size_t			 n_allow_clients;
	char			*events;	/* NULL: none, "-": stdout */
	bool			 log_allowed;
	unsigned		 tcp_idle_timeout_ms;
	unsigned		 tcp_max_connections;
	struct conf_list	*lists;
	size_t			 n_lists;
	char			*allowlist;
	char			*state_dir;	/* remote lists' last good copies */
	char			*control;	/* control socket path, or NULL */
	struct addr		 web_listen;	/* len 0: no web page */
	char			*web_cert;	/* HTTPS when both are set */
	char			*web_key;
	char			*web_password;	/* web_hash_password() form */
	char			*web_root;	/* NULL: the installed page */
	char			*user;		/* to run as after start-up */
	char			*chroot;	/* or NULL */
	int			 quic_queue;	/* NFQUEUE number, or -1 */
	bool			 quic_block;	/* "quic block": drop all QUIC */
	bool			 quic_unknown_block;	/* unreadable flows */
	unsigned		 rate_limit;	/* queries/s per client, 0: none */
	unsigned		 rate_burst;	/* 0: as rate_limit */
	struct addr		 metrics_listen;	/* len 0: no /metrics */
	struct conf_sni_listen	*sni_listen;
	size_t			 n_sni_listen;
	unsigned		 sni_timeout_ms;	/* to receive a ClientHello */
	unsigned		 sni_idle_timeout_ms;	/* relay without traffic */
	unsigned		 sni_max_connections;
	unsigned		 sni_max_per_client;
	bool			 ech_strip;
	bool			 doh_canary;	/* use-application-dns.net NXDOMAIN */
	char			*geoip_country;	/* MaxMind DB files, or NULL */
	char			*geoip_asn;
	struct conf_device	*devices;
	size_t			 n_devices;
	struct conf_group	*groups;
	size_t			 n_groups;
};

/*
 * Reads path. On error returns NULL and writes "file:line: message" (or
 * "file: message") into err. resolv_conf is the file "upstream system"
 * reads (normally /etc/resolv.conf).
 */
struct conf *conf_load(const char *path, const char *resolv_conf, char *err,
    size_t errlen);

/* As conf_load, from a buffer; path is used for messages and relative paths. */
struct conf *conf_parse(const char *path, const char *buf, size_t len,
    const char *resolv_conf, char *err, size_t errlen);

void conf_free(struct conf *conf);

/* Index of the list called name, or -1. */
long conf_find_list(const struct conf *conf, const char *name);

/* Parses "aa:bb:cc:dd:ee:ff" (or with '-'). */
bool conf_parse_mac(const char *text, uint8_t mac[CONF_MAC_LEN]);

const char *block_mode_name(enum block_mode mode);
const char *sni_rule_name(enum sni_rule rule);

#endif
