/* libcurl's result codes as errno values, for evt_curl_perform's callers
 * (DESIGN "Conventions": -1 and errno everywhere). */
#include "errno_map.h"

#include <curl/curl.h>
#include <errno.h>

int evt__curlm_errno(int mc)
{
    switch (mc) {
    case CURLM_OUT_OF_MEMORY:
        return ENOMEM;
    case CURLM_BAD_EASY_HANDLE:
    case CURLM_ADDED_ALREADY:
        return EINVAL;
    case CURLM_RECURSIVE_API_CALL:
        return EDEADLK;
    default:
        return EIO;
    }
}

int evt__curl_errno(void *easy, int code)
{
    long os = 0;
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return EADDRNOTAVAIL;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os);
        return os > 0 ? (int)os : ECONNREFUSED;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return EINVAL;
    case CURLE_OUT_OF_MEMORY:
        return ENOMEM;
    default:
        return EIO;
    }
}
