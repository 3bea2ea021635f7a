/* Between curl.c and h2c.c: the HTTP/2 prior-knowledge workaround's
 * hooks in evt_curl_perform and in the socket callbacks. Thread-local
 * state, as the multi handle. */
#ifndef EVT_HTTP_H2C_H
#define EVT_HTTP_H2C_H

/* easy was marked by evt_curl_h2c: sets its HTTP version (*pk: prior
 * knowledge, it opens the origin's connection) and returns the origin, or
 * -1 when it was not marked. */
int evt__h2c_begin(void *easy, int *pk);
/* The transfer of origin ended with libcurl's code: 1 when it should be
 * made again (the version is set again; *pk updated), else 0. */
int evt__h2c_end(void *easy, int origin, int *pk, int code);
/* Socket fd was opened by a transfer of origin (-1: none) / was closed. */
void evt__h2c_opened(int fd, int origin);
void evt__h2c_closed(int fd);
/* Forget everything (the multi handle is gone, or this is a forked
 * child). */
void evt__h2c_reset(void);

#endif
