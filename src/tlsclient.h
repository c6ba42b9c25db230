/*
 * tlsclient.h: OpenSSL client contexts that verify the server, shared by
 * DNS-over-TLS upstreams and remote list downloads.
 */
#ifndef HUSHD_TLSCLIENT_H
#define HUSHD_TLSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct bufferevent;

/*
 * A TLS 1.2+ client context that verifies the peer's chain against
 * ca_file, or the system's trust store when ca_file is NULL. NULL (and
 * a warning naming what) when the anchors cannot be loaded.
 */
SSL_CTX *tlsclient_ctx(const char *ca_file, const char *what);

/*
 * Sets the name the server must prove: a host name (also sent as SNI) or
 * an IP address literal, checked against the certificate's names.
 */
bool tlsclient_expect_host(SSL *ssl, const char *host);

/* Why a TLS bufferevent failed, as a sentence, into why. */
void tlsclient_error(struct bufferevent *bev, char *why, size_t len);

#endif
