/* Host groups, as GNU parallel has them: -S @G1+G2/LOGIN puts a login in
 * groups G1 and G2 (and, always, in the groups named by its N/LOGIN and its
 * LOGIN), -S @G alone keeps only the logins of G, and with --hostgroups a
 * value's @G1+G2 (taken off it) says which groups the job may run on: the
 * job waits for a free slot of such a login. The groups of the job are
 * those of its first value, as in GNU. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static struct strv all; /* every group of every login (no value's @G) */

static int add_group(struct strv *v, const char *g, size_t len)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->v[i]) == len && !strncmp(v->v[i], g, len))
            return 0;
    char *d = strndup(g, len);
    if (!d || strv_push(v, d) < 0) {
        free(d);
        return -1;
    }
    return 0;
}

int hostgroup_add(struct login *l, const char *name)
{
    return add_group(&l->groups, name, strlen(name));
}

/* Split G1+G2 into v. */
static int add_groups(struct strv *v, const char *g, size_t len)
{
    while (len) {
        const char *plus = memchr(g, '+', len);
        size_t n = plus ? (size_t)(plus - g) : len;
        if (n && add_group(v, g, n) < 0)
            return -1;
        if (!plus)
            break;
        len -= n + 1;
        g = plus + 1;
    }
    return 0;
}

int hostgroup_parse(const char **spec, struct login *l)
{
    const char *s = *spec;
    if (*s == '@') {
        const char *slash = strchr(s, '/');
        size_t gl = slash ? (size_t)(slash - s - 1) : strlen(s + 1);
        if (add_groups(&l->groups, s + 1, gl) < 0)
            return -1;
        s = slash ? slash + 1 : s + 1 + gl;
        if (*s == '@') {
            cli_error("--sshlogin %s: give a login's groups as @G1+G2/LOGIN",
                      *spec);
            return -2;
        }
        l->select = !*s;
    }
    if (!l->select && add_group(&l->groups, s, strlen(s)) < 0)
        return -1;
    *spec = s;
    return 0;
}

static int in_groups(const struct login *l, const struct strv *g)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < l->groups.n; k++)
            if (!strcmp(g->v[i], l->groups.v[k]))
                return 1;
    return 0;
}

/* Keep the logins (their order kept, selections and the dropped ones moved
 * past nlogin: still freed), note every group. */
int hostgroup_select(void)
{
    struct strv keep = {0};
    for (size_t i = 0; i < SSH.nlogin; i++)
        if (SSH.login[i].select)
            for (size_t k = 0; k < SSH.login[i].groups.n; k++)
                if (add_group(&keep, SSH.login[i].groups.v[k],
                              strlen(SSH.login[i].groups.v[k])) < 0)
                    return -1;
    struct login *sorted = malloc(SSH.nlogin * sizeof *sorted);
    if (!sorted) {
        strv_free(&keep);
        return -1;
    }
    size_t n = 0, gone = SSH.nlogin;
    for (size_t i = 0; i < SSH.nlogin; i++) {
        const struct login *l = &SSH.login[i];
        int ok = !l->select && !l->dup && (!keep.n || in_groups(l, &keep));
        sorted[ok ? n++ : --gone] = *l;
    }
    memcpy(SSH.login, sorted, SSH.nlogin * sizeof *sorted);
    free(sorted);
    strv_free(&keep);
    if (!n) {
        cli_error("--sshlogin: no login is in the host groups given");
        return -2;
    }
    SSH.nlogin = n;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < SSH.login[i].groups.n; k++)
            if (add_group(&all, SSH.login[i].groups.v[k],
                          strlen(SSH.login[i].groups.v[k])) < 0)
                return -1;
    return 0;
}

static char *joined(const struct strv *v)
{
    return strv_join(v->v, v->n, "+");
}

/* GNU takes from the first '@' to the end off every value; the first
 * value's are the job's groups. A job whose groups no login has: GNU adds
 * them as logins, eventor refuses. */
int hostgroup_take(struct job *j, struct record *r, size_t n)
{
    if (!SSH.hostgroups)
        return 0;
    if (!all.n && add_group(&all, ":", 1) < 0) /* no -S: GNU's ':' */
        return -1;
    struct strv g = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r[i].nval; k++) {
            char *at = strchr(r[i].val[k], '@');
            if (!at || !at[1])
                continue;
            if (i == 0 && k == 0 && add_groups(&g, at + 1, strlen(at + 1)) < 0)
                rc = -1;
            *at = 0;
        }
    if (rc == 0 && g.n) {
        int known = 0;
        for (size_t i = 0; i < g.n; i++)
            for (size_t k = 0; k < all.n && !known; k++)
                known = !strcmp(g.v[i], all.v[k]);
        if (!known) {
            cli_error("--hostgroups: no --sshlogin is in group %s (GNU "
                      "parallel would add it as a login)", g.v[0]);
            rc = -2;
        }
    }
    if (rc == 0 && !(j->agrp = joined(g.n ? &g : &all)))
        rc = -1;
    strv_free(&g);
    return rc;
}

int hostgroup_active(void)
{
    return SSH.hostgroups && SSH.nlogin;
}

long hostgroup_pick(const struct job *j, const int *free, long nfree)
{
    if (!hostgroup_active() || !j->agrp)
        return nfree ? 0 : -1;
    struct strv g = {0};
    long pick = -1;
    if (add_groups(&g, j->agrp, strlen(j->agrp)) < 0)
        return nfree ? 0 : -1; /* out of memory: anywhere */
    for (long i = 0; i < nfree && pick < 0; i++) {
        const struct login *l = sshlogin_of(free[i]);
        if (l && in_groups(l, &g))
            pick = i;
    }
    strv_free(&g);
    return pick;
}

char *hostgroup_env(const struct job *j, int which)
{
    if (!SSH.hostgroups)
        return NULL;
    const struct login *l = sshlogin_of(j->slot);
    char *g = which ? (j->agrp ? strdup(j->agrp) : joined(&all))
                    : l ? joined(&l->groups) : strdup(":");
    char *out = NULL;
    if (g && asprintf(&out, "%s=%s", which ? "PARALLEL_ARGHOSTGROUPS"
                                           : "PARALLEL_HOSTGROUPS", g) < 0)
        out = NULL;
    free(g);
    return out;
}

void hostgroup_free(void)
{
    strv_free(&all);
}
