/* Between curl.c and errno_map.c: libcurl's codes as errno. */
#ifndef EVT_HTTP_ERRNO_MAP_H
#define EVT_HTTP_ERRNO_MAP_H

/* A CURLMcode of curl_multi_add_handle... */
int evt__curlm_errno(int mc);
/* A transfer's CURLcode; 0 for CURLE_OK (a connect error is the OS's). */
int evt__curl_errno(void *easy, int code);

#endif
