/*
 * tlsclient.c: verifying TLS client setup with OpenSSL.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "log.h"
#include "tlsclient.h"

SSL_CTX *
tlsclient_ctx(const char *ca_file, const char *what)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file,
	    NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		log_warnx("%s: cannot load trust anchors %s", what,
		    ca_file ? ca_file : "(system)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

bool
tlsclient_expect_host(SSL *ssl, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) == 1;
	return SSL_set_tlsext_host_name(ssl, host) == 1 &&
	    SSL_set1_host(ssl, host) == 1;
}

void
tlsclient_error(struct bufferevent *bev, char *why, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long ssl_error;

	if (verify != X509_V_OK)
		snprintf(why, len, "certificate refused: %s",
		    X509_verify_cert_error_string(verify));
	else if (ssl && (ssl_error = bufferevent_get_openssl_error(bev)))
		ERR_error_string_n(ssl_error, why, len);
	else if (EVUTIL_SOCKET_ERROR() != 0)
		snprintf(why, len, "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, len, "connection closed");
}
