/* Inside the Redis Streams source and sink (src/broker/redis*.c): the
 * state of one worker's batch, shared by redis.c (reading, leases,
 * leaving) and redis_store.c (the writer that stores results and records
 * and acknowledges them). */
#ifndef EVT_BROKER_REDIS_SRC_H
#define EVT_BROKER_REDIS_SRC_H

#include "redis.h"

#define STORE_MAX 512

/* An item read, by its task index. */
typedef struct slot {
    char id[44];         /* its stream id */
    unsigned char state; /* LEASED, then DONE or LET_GO */
} slot_t;
enum { LEASED, DONE, LET_GO };

typedef struct stored {
    char id[44];
    char *res; /* malloc'd (NULL: a failed delivery's record only) */
    size_t len;
    char *rec; /* its record (evt_redis_opts_t.record), malloc'd, or NULL */
    size_t rec_len;
} stored_t;

typedef struct rsrc {
    evt__redis_keys_t k;
    evt__redis_t *rd, *wr, *ls; /* reader, writer, lease connections */
    char consumer[128];
    char count[24], vis[24], maxd[24];
    int64_t vis_ms, cmd_ms, down_ms, poll_ms;
    int64_t block_ms;   /* XREADGROUP BLOCK when idle: poll_ms, within
                           half a command's deadline */
    int64_t next_claim; /* XAUTOCLAIM again from then (or when idle) */
    char cursor[48];    /* where the next XAUTOCLAIM goes on from */
    int follow;         /* evt_redis_opts_t's */
    evt_redis_record_fn record;
    evt_redis_stored_fn on_stored;
    void *user;
    uint64_t seq;       /* the input number of the item next gave */
    evt__redis_script_t claim, store, store_log, clean;
    redisReply *batch;  /* entries being handed out (owned) */
    redisReply **ents;  /* their array */
    size_t nents, at;
    slot_t *slots;      /* by task index */
    size_t nslots, cap, lo; /* lo: below it every slot is finished */
    stored_t *q;        /* results waiting for the writer */
    size_t nq, qcap;
    evt_event_t *wake;  /* the writer has work, or should stop */
    int stop;
    int err;            /* first error of the writer or lease, 0 */
} rsrc_t;

static inline int64_t give_up(const rsrc_t *s)
{
    return s->down_ms > 0 ? evt_now() + s->down_ms : -1;
}

/* The writer coroutine (argument: the rsrc_t): stores what the sink
 * queued, STORE_MAX per script call, until stop and nothing is queued. */
void *evt__redis_writer(void *p);
/* Name the writer's scripts in s. */
void evt__redis_store_init(rsrc_t *s);

#endif
