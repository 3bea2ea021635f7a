/* Between curl.c and dns.c: the addresses evt_curl_resolve found, handed
 * to the transfer that follows it, and the per-thread cache's life. */
#ifndef EVT_HTTP_DNS_H
#define EVT_HTTP_DNS_H

#include <stddef.h>

/* The CURLOPT_RESOLVE list evt_curl_resolve set on easy for this perform
 * (its entry and answer in *entry, *gen), or NULL. The caller gives it
 * back to evt__dns_done once the transfer is over (loaded: it went
 * through libcurl, whose DNS cache now has the answer). */
void *evt__dns_take(void *easy, unsigned *gen, void **entry);
void evt__dns_done(void *easy, void *list, void *entry, unsigned gen,
                   int loaded);
/* The multi handle is gone (its DNS cache too); with release, free the
 * cache unless a lookup is in progress. */
void evt__dns_forget(int release);
/* curl.c: what evt_curl_result says next (a lookup that failed). */
void evt__curl_set_result(int code);
/* Lookups made by this thread (tests). */
size_t evt__dns_lookups(void);

#endif
