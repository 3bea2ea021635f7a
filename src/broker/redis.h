/* Internal interface of the Redis Streams broker: one connection to Redis
 * driven by the calling coroutine on its thread's reactor (redis_conn.c),
 * and the batch source/sink built on it (redis.c). */
#ifndef EVT_BROKER_REDIS_H
#define EVT_BROKER_REDIS_H

#include "broker.h"

#include <hiredis/hiredis.h>

/* One connection, used by one coroutine at a time. Commands may be
 * appended several at a time (pipelining) and their replies taken in
 * order. Any failure (the server gone, a deadline passed) drops the
 * connection; the next command connects again. */
typedef struct evt__redis {
    redisContext *c;   /* NULL while not connected */
    char *host;        /* owned */
    int port;
    char *user, *pass; /* redis://[USER:]PASS@...: AUTH on each connect
                          (owned, NULL when not given) */
    int authing;       /* the AUTH's reply is the next one to come */
    size_t inflight;   /* commands appended whose replies are not taken */
} evt__redis_t;

/* Parse "redis://[[USER:]PASS@]HOST:PORT[/NAME]" (HOST and PORT may be left out:
 * 127.0.0.1, 6379); the name (or NULL) is malloc'd into *name when name is
 * not NULL. NULL and EINVAL/ENOMEM on failure. */
evt__redis_t *evt__redis_open(const char *url, char **name);
void evt__redis_close(evt__redis_t *r);
/* Close the socket (the next command connects again). */
void evt__redis_drop(evt__redis_t *r);

/* Append a command (argv/argvlen as redisAppendCommandArgv); 0 or -1. */
int evt__redis_append(evt__redis_t *r, int argc, const char **argv,
                      const size_t *lens);
/* The next reply of the commands appended, sending what is buffered first;
 * NULL and errno (ETIMEDOUT at deadline, ECONNRESET...) after which the
 * connection is dropped. The caller frees the reply (freeReplyObject). A
 * reply of type REDIS_REPLY_ERROR is returned as a reply. */
redisReply *evt__redis_reply(evt__redis_t *r, int64_t deadline);
/* One command, printf-style as redisCommand, and its reply. */
redisReply *evt__redis_command(evt__redis_t *r, int64_t deadline,
                               const char *fmt, ...);

/* The same until it succeeds, dropping and connecting again with a
 * backoff (10 ms doubling to 1 s) while the server is away, each try
 * bounded by try_ms; NULL and errno when give_up passes (-1: never) or the
 * caller is cancelled. A reply of type error is a success here. */
redisReply *evt__redis_retry(evt__redis_t *r, int64_t try_ms,
                             int64_t give_up, int argc, const char **argv,
                             const size_t *lens);

/* An error reply: keep its text for evt_redis_error() and set errno to
 * EPROTO (EACCES for NOAUTH, WRONGPASS, NOPERM; ENOMEM for OOM); returns
 * -1. rep is not freed. */
int evt__redis_failed(const redisReply *rep);

/* A Lua script run by EVALSHA, loaded (SCRIPT LOAD) the first time and
 * again after NOSCRIPT (a restarted server forgets its scripts). */
typedef struct evt__redis_script {
    const char *src;
    char sha[48]; /* "" until loaded */
} evt__redis_script_t;
/* EVALSHA sc with argv (numkeys, keys, args: argc of them) as
 * evt__redis_retry. */
redisReply *evt__redis_eval(evt__redis_t *r, evt__redis_script_t *sc,
                            int64_t try_ms, int64_t give_up, int argc,
                            const char **argv, const size_t *lens);

/* The keys of the batch name (see eventor.h), and its group's name. */
#define EVT__REDIS_GROUP "eventor"
typedef struct evt__redis_keys {
    char *items;   /* eventor:{NAME}:items */
    char *results; /* eventor:{NAME}:results */
    char *dead;    /* eventor:{NAME}:dead */
    char *log;     /* eventor:{NAME}:log */
} evt__redis_keys_t;
/* Open url's connection and fill k (name NULL: "default"); NULL and errno.
 * Free both with evt__redis_batch_close. */
evt__redis_t *evt__redis_batch_open(const char *url, evt__redis_keys_t *k);
void evt__redis_batch_close(evt__redis_t *r, evt__redis_keys_t *k);
/* XGROUP CREATE ... MKSTREAM, a group already there being no error. */
int evt__redis_group(evt__redis_t *r, const evt__redis_keys_t *k,
                     int64_t deadline);

#endif
