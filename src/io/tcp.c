/* TCP the short way: evt_tcp_listen binds a listening socket to a numeric
 * address, evt_tcp_connect resolves a host (names on another thread) and
 * tries its addresses in turn. */
#define _GNU_SOURCE
#include "io.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

/* Bind and listen on one address; the socket, or -1 and errno. */
static int listen_on(const struct addrinfo *ai, int dual_stack, int backlog)
{
    int fd = evt__socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    /* A restarted server must not wait for the old one's TIME_WAITs. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto fail;
    /* "All addresses" is one IPv6 socket that takes IPv4 too, whatever
     * net.ipv6.bindv6only says. */
    if (dual_stack && ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
        goto fail;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
        goto fail;
    return fd;
fail:;
    int err = errno;
    evt_close(fd);
    errno = err;
    return -1;
}

int evt_tcp_listen(const char *host, int port, int backlog)
{
    if (port < 0 || port > 65535) {
        errno = EINVAL;
        return -1;
    }
    if (host && !*host)
        host = NULL;
    char serv[8];
    snprintf(serv, sizeof serv, "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
    }, *res;
    int rc = getaddrinfo(host, serv, &hints, &res);
    if (rc) {
        /* A name here would need a lookup, and listen does not wait. */
        errno = rc == EAI_NONAME ? EINVAL : evt__gai_errno(rc, errno);
        return -1;
    }
    if (backlog <= 0)
        backlog = SOMAXCONN;
    int fd = -1, err = EADDRNOTAVAIL;
    /* For all addresses try the dual-stack IPv6 socket first, then IPv4
     * alone, but only where IPv6 is off: a port taken on IPv6 is an error,
     * not a reason to serve IPv4 alone. A given host has one address. */
    for (int pass = host ? 1 : 0; pass < 2 && fd < 0; pass++) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if (pass == 0 && ai->ai_family != AF_INET6)
                continue;
            if (pass == 1 && !host && ai->ai_family == AF_INET6)
                continue;
            fd = listen_on(ai, !host, backlog);
            if (fd < 0)
                err = errno;
        }
        if (pass == 0 && fd < 0 && err != EAFNOSUPPORT &&
            err != EPROTONOSUPPORT && err != EADDRNOTAVAIL)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = err;
    return fd;
}

int evt_tcp_connect(const char *host, int port, int64_t deadline)
{
    if (!host || !*host || port <= 0 || port > 65535) {
        errno = EINVAL;
        return -1;
    }
    struct addrinfo *res;
    if (evt__resolve(host, port, deadline, &res) < 0)
        return -1;
    int err = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = evt__socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (evt_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline) == 0) {
            int one = 1;
            /* Requests and answers are small and go both ways: Nagle would
             * hold each one back for the peer's delayed ACK. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            freeaddrinfo(res);
            return fd;
        }
        err = errno;
        evt_close(fd);
        /* The time is the caller's, not the address's: stop here. */
        if (err == ETIMEDOUT || err == ECANCELED)
            break;
    }
    freeaddrinfo(res);
    errno = err;
    return -1;
}
