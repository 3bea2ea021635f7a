/* GNU parallel's --record-env and --env _: the names of the variables of a
 * clean environment go to $PARALLEL_HOME/ignored_vars (else
 * ~/.parallel/ignored_vars), and --env _ later sends remote jobs every
 * variable and exported bash function not named there. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

/* The ignored_vars file's path (malloc'd), its dir made when make. */
static char *vars_path(int make)
{
    const char *home = getenv("PARALLEL_HOME"), *h = getenv("HOME");
    char *dir = NULL, *path = NULL;
    if (home && *home)
        dir = strdup(home);
    else if (asprintf(&dir, "%s/.parallel", h ? h : ".") < 0)
        dir = NULL;
    if (dir && make)
        mkdir(dir, 0700); /* (EEXIST is fine; a failure shows at fopen) */
    if (dir && asprintf(&path, "%s/ignored_vars", dir) < 0)
        path = NULL;
    free(dir);
    return path;
}

int recordenv_write(void)
{
    char *path = vars_path(1);
    FILE *f = path ? fopen(path, "we") : NULL;
    for (char **e = environ; f && *e; e++)
        fprintf(f, "%.*s\n", (int)strcspn(*e, "="), *e);
    if (!f || fclose(f) != 0) {
        cli_error("Cannot write to %s.", path ? path : "ignored_vars");
        free(path);
        return -2;
    }
    free(path);
    return 1; /* done: GNU exits 0 */
}

static int listed(const struct strv *v, const char *name, size_t n)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->v[i]) == n && !strncmp(v->v[i], name, n))
            return 1;
    return 0;
}

int recordenv_add_all(struct strv *names)
{
    char *path = vars_path(0);
    struct strv ignored = {0};
    int rc = path ? strv_read_lines(&ignored, path, 0) : -1;
    free(path);
    if (rc < 0) {
        cli_error("Run 'eventor --record-env' in a clean environment first.");
        strv_free(&ignored);
        return -2;
    }
    for (char **e = environ; *e && rc == 0; e++) {
        size_t n = strcspn(*e, "=");
        const char *name = *e;
        if (listed(&ignored, name, n) || listed(names, name, n))
            continue;
        if (!strncmp(name, "BASH_FUNC_", 10)) { /* a function: by its name */
            name += 10;
            n = strcspn(name, "%(=");
            if (listed(names, name, n))
                continue;
        }
        char *d = strndup(name, n);
        if (!d || strv_push(names, d) < 0) {
            free(d);
            rc = -1;
        }
    }
    strv_free(&ignored);
    return rc;
}
