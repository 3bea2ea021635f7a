/* A job on an --sshlogin: the one shell line that runs it there, as GNU
 * parallel builds it: rsync of the --transferfile files, ssh with a perl
 * wrapper (it sets the job's variables, enters --workdir, and kills the
 * job's process group when ssh dies: --timeout and signals reach the remote
 * job that way), rsync of the --return files, and --cleanup. Local jobs
 * (no -S, or ':') are changed only by --workdir. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run as `perl -e W WORKDIR COMMAND NAME=VALUE...` by the remote shell. */
static const char wrapper[] =
    "($w,$c,@e)=@ARGV;for(@e){/^([^=]*)=(.*)$/s and $ENV{$1}=$2}"
    "if(length $w){-d $w or system(\"mkdir\",\"-p\",\"--\",$w);"
    "chdir $w or die \"eventor: cannot enter $w: $!\\n\"}"
    /* ssh already gone (killed while it connected): run nothing */
    "$p=getppid;$p==1 and exit 255;$d=0;$SIG{CHLD}=sub{$d=1};$pid=fork;"
    "unless($pid){setpgrp;exec($ENV{SHELL}||\"/bin/sh\",\"-c\",$c);"
    "die \"eventor: cannot run $ENV{SHELL}: $!\\n\"}"
    "while(!$d&&getppid==$p){$s=$s<1?0.001+$s*1.03:$s;"
    "select(undef,undef,undef,$s)}"
    "if(!$d){@t=(TERM,200,TERM,100,TERM,50,KILL,25);"
    "while(@t&&kill(0,-$pid)){kill(shift@t,-$pid);"
    "select(undef,undef,undef,(shift@t)/1000)}}"
    "wait;exit($?&127?128+($?&127):$?>>8)";

/* Write s quoted for the shell, times levels of quoting. */
static void fq(FILE *f, const char *s, int times)
{
    char *q = strdup(s);
    for (int i = 0; q && i < times; i++) {
        char *n = shell_quote(q);
        free(q);
        q = n;
    }
    fputs(q ? q : "''", f);
    free(q);
}

/* A pattern with GNU's placeholders, expanded for the job (unquoted). */
static char *expand(const char *pat, const struct job *j,
                    const struct record *r, size_t n)
{
    struct opts o = *SSH.o;
    o.tagstring = pat;
    struct tmpl *t = tmpl_compile_tag(&o);
    char *out = NULL, **argv = NULL;
    if (t && tmpl_expand(t, r, n, j->seq, j->slot, &out, &argv) < 0)
        out = NULL;
    argv_free(argv);
    tmpl_free(t);
    return out;
}

/* --workdir for job j: "" for none (the login dir), ... a dir of its own
 * under ~/.parallel/tmp, . the current dir (relative to $HOME within it). */
static char *workdir(const struct job *j, const struct record *r, size_t n,
                     int local)
{
    const char *w = SSH.workdir, *home = getenv("HOME");
    char *out = NULL;
    if (!w)
        return strdup("");
    if (!strcmp(w, "...")) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        if (asprintf(&out, "%s%s.parallel/tmp/%s-%ld-%llu",
                     local && home ? home : "", local && home ? "/" : "",
                     host, (long)getpid(), (unsigned long long)j->seq) < 0)
            return NULL;
        return out;
    }
    if (strcmp(w, "."))
        return expand(w, j, r, n);
    char *cwd = getcwd(NULL, 0);
    size_t hl = home ? strlen(home) : 0;
    if (cwd && !local && hl > 1 && !strncmp(cwd, home, hl) &&
        (cwd[hl] == '/' || !cwd[hl])) {
        memmove(cwd, cwd + hl + (cwd[hl] == '/'), strlen(cwd + hl) + 1);
        if (!*cwd)
            strcpy(cwd, ".");
    }
    return cwd;
}

/* File f's path inside wd (GNU's rsync -R rules: after /./, or f itself
 * when absolute). */
static void inside(FILE *f, const char *wd, const char *file)
{
    const char *dot = strstr(file, "/./");
    if (dot)
        file = dot + 3;
    else if (file[0] == '/') {
        fputs(file, f);
        return;
    }
    while (!strncmp(file, "./", 2))
        file += 2;
    fprintf(f, "%s/%s", wd, file);
}

static void transfer(FILE *f, const struct login *l, const char *wd,
                     const char *file)
{
    fprintf(f, "%s ", l->ssh);
    fq(f, l->host, 1);
    if (file[0] == '/' && !strstr(file, "/./"))
        wd = "/"; /* GNU: rsync /foo/bar / */
    fputs(" -- exec mkdir -p ", f);
    fq(f, wd, 2);
    fprintf(f, " && rsync %s -e ", SSH.rsync_opts);
    fq(f, l->ssh, 1);
    fputc(' ', f);
    char *src = NULL, *dst = NULL;
    if (asprintf(&src, "%s%s", file[0] == '/' || !strncmp(file, "./", 2)
                                   ? "" : "./", file) >= 0)
        fq(f, src, 1);
    fputc(' ', f);
    if (asprintf(&dst, "%s:%s", l->host, wd) >= 0)
        fq(f, dst, 1);
    fputs(";\n", f);
    free(src);
    free(dst);
}

/* --return file: rsync'd from wd on the login to the same place here (or
 * to before its /./ for the part after it). */
static void give_back(FILE *f, const struct login *l, const char *wd,
                      const char *file)
{
    const char *dot = strstr(file, "/./"), *rel = dot ? dot + 3 : file;
    const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
    int dl = slash ? (int)(slash - rel) : 0;
    char *ldir = NULL, *rdir = NULL, *rpath = NULL, *src = NULL;
    int absolute = !dot && file[0] == '/';
    int ok = absolute
        ? asprintf(&ldir, "%.*s", dl ? dl : 1, rel) >= 0 &&
          (rdir = strdup(ldir)) != NULL
        : asprintf(&ldir, "%s%.*s/./%.*s", file[0] == '/' ? "" : "./",
                   dot ? (int)(dot - file) : 1, dot ? file : ".", dl ? dl : 1,
                   dl ? rel : ".") >= 0 &&
          asprintf(&rdir, "%s/./%.*s", wd, dl ? dl : 1, dl ? rel : ".") >= 0;
    if (ok && asprintf(&src, "%s:./%s", l->host, base) >= 0) {
        FILE *m = open_memstream(&rpath, &(size_t){0});
        if (m) {
            fputs("cd ", m);
            fq(m, rdir, 1);
            fputs("; rsync", m);
            fclose(m);
        }
        fputs("mkdir -p ", f);
        fq(f, ldir, 1);
        fprintf(f, " && rsync %s -e ", SSH.rsync_opts);
        fq(f, l->ssh, 1);
        fputs(" --rsync-path=", f);
        fq(f, rpath ? rpath : "rsync", 1);
        fputs(" -- ", f);
        fq(f, src, 1);
        fputc(' ', f);
        fq(f, ldir, 1);
        fputs(";\n", f);
    }
    free(ldir);
    free(rdir);
    free(rpath);
    free(src);
}

/* --cleanup: the transferred and returned files removed on the login, the
 * dirs they made if empty, a --workdir ... dir whole. */
static void cleanup(FILE *f, const struct login *l, const char *wd,
                    char **files, size_t nfiles)
{
    char *script = NULL, *dirs = NULL;
    size_t sl = 0, dlen = 0;
    FILE *s = open_memstream(&script, &sl), *d = open_memstream(&dirs, &dlen);
    if (!s || !d) {
        if (s)
            fclose(s);
        if (d)
            fclose(d);
        return;
    }
    fputs("rm -f", s);
    for (size_t i = 0; i < nfiles; i++) {
        char *path = NULL;
        FILE *p = open_memstream(&path, &(size_t){0});
        if (!p)
            continue;
        inside(p, wd, files[i]);
        fclose(p);
        fputc(' ', s);
        fq(s, path, 1);
        for (char *e; path[0] != '/' && (e = strrchr(path, '/'));) {
            *e = 0; /* each dir above it, deepest first */
            fputc(' ', d);
            fq(d, path, 1);
        }
        free(path);
    }
    fclose(d);
    fprintf(s, " 2>/dev/null; rmdir%s 2>/dev/null;", dirs);
    if (SSH.workdir && !strcmp(SSH.workdir, "...")) {
        fputs(" rm -rf ", s);
        fq(s, wd, 1);
        fputc(';', s);
    }
    fclose(s);
    fprintf(f, "%s ", l->ssh);
    fq(f, l->host, 1);
    fputs(" -- exec sh -c ", f);
    fq(f, script, 2);
    fputs(";\n", f);
    free(script);
    free(dirs);
}

/* The ssh of the job itself: the wrapper with its arguments. */
static void job_ssh(FILE *f, const struct login *l, const char *wd,
                    const struct job *j)
{
    fprintf(f, "%s ", l->ssh);
    fq(f, l->host, 1);
    fputs(" -- exec perl -e ", f);
    fq(f, wrapper, 2);
    fputc(' ', f);
    fq(f, wd, 2);
    fputc(' ', f);
    char *funcs = SSH.env.n ? sshmore_env_funcs() : NULL, *cmd = NULL;
    if (funcs && *funcs && asprintf(&cmd, "%s%s", funcs, j->cmd) >= 0)
        fq(f, cmd, 2); /* --env's functions, defined as GNU does */
    else
        fq(f, j->cmd, 2);
    free(funcs);
    free(cmd);
    char var[160];
    const char *str[][2] = {{"PARALLEL_SSHLOGIN=", l->str},
                            {"PARALLEL_SSHHOST=", l->hostname}};
    for (size_t i = 0; i < 4; i++) {
        char *v = i >= 2 ? hostgroup_env(j, (int)i - 2) : NULL;
        if (i < 2 && asprintf(&v, "%s%s", str[i][0], str[i][1]) < 0)
            continue;
        if (!v)
            continue;
        fputc(' ', f);
        fq(f, v, 2);
        free(v);
    }
    sshmore_env_vars(f, 2, fq);
    snprintf(var, sizeof var, " PARALLEL_SEQ=%llu PARALLEL_JOBSLOT=%d "
             "PARALLEL_JOBSLOT0=%d PARALLEL_PID=%ld",
             (unsigned long long)j->seq, j->slot, j->slot - 1, (long)getpid());
    fputs(var, f);
}

/* The expanded --transferfile and --return files of the job. */
static int job_files(const struct job *j, const struct record *r, size_t n,
                     struct strv *tf, struct strv *rf)
{
    for (size_t i = 0; i < SSH.transfer.n + SSH.ret.n; i++) {
        int is_tf = i < SSH.transfer.n;
        const char *pat = is_tf ? SSH.transfer.v[i]
                                : SSH.ret.v[i - SSH.transfer.n];
        char *e = expand(pat, j, r, n);
        if (!e || strv_push(is_tf ? tf : rf, e) < 0) {
            free(e);
            return -1;
        }
    }
    return 0;
}

static void remote_line(FILE *f, const struct login *l, const char *wd,
                        const struct job *j, struct strv *tf, struct strv *rf)
{
    const char *wdt = *wd ? wd : "."; /* where the files go */
    if (!tf->n && !rf->n && !SSH.cleanup) {
        fputs("exec ", f);
        job_ssh(f, l, wd, j);
        return;
    }
    for (size_t i = 0; i < tf->n; i++)
        transfer(f, l, wdt, tf->v[i]);
    job_ssh(f, l, wd, j);
    fputs("\n_EXIT_status=$?\n", f);
    for (size_t i = 0; i < rf->n; i++)
        give_back(f, l, wdt, rf->v[i]);
    if (SSH.cleanup) {
        cleanup(f, l, wdt, tf->v, tf->n);
        if (rf->n)
            cleanup(f, l, wdt, rf->v, rf->n);
    }
    fputs("exit $_EXIT_status", f);
}

int remote_prepare(struct job *j, const struct record *r, size_t n)
{
    const struct login *l = sshlogin_of(j->slot);
    int local = !l || l->local;
    if (local && !SSH.workdir)
        return 0;
    char *wd = workdir(j, r, n, local), *line = NULL;
    size_t len = 0;
    struct strv tf = {0}, rf = {0};
    FILE *f = wd ? open_memstream(&line, &len) : NULL;
    int rc = f && (local || job_files(j, r, n, &tf, &rf) == 0) ? 0 : -1;
    if (rc == 0 && local) { /* --workdir here: made if missing */
        fputs("mkdir -p -- ", f);
        fq(f, wd, 1);
        fputs(" && cd -- ", f);
        fq(f, wd, 1);
        fprintf(f, " || exit 255\n%s", j->cmd);
    } else if (rc == 0) {
        remote_line(f, l, wd, j, &tf, &rf);
    }
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0)
        j->remote = line;
    else
        free(line);
    free(wd);
    strv_free(&tf);
    strv_free(&rf);
    return rc;
}

/* A --basefile's line for login l: its rsync into the --workdir (as a
 * job's --transferfile, GNU's "dummy job" workdir), or with clean its
 * removal there. NULL on ENOMEM. */
char *remote_basefile(const struct login *l, const char *file, int clean)
{
    const struct job dummy = {.seq = 0, .slot = 1};
    const char *w = SSH.workdir;
    char *wd = !w || !strcmp(w, ".") || !strcmp(w, "...")
                   ? workdir(&dummy, NULL, 0, 0) : strdup(w);
    char *line = NULL;
    size_t len = 0;
    FILE *f = wd ? open_memstream(&line, &len) : NULL;
    if (f) {
        char *files[] = {(char *)file};
        if (clean)
            cleanup(f, l, *wd ? wd : ".", files, 1);
        else
            transfer(f, l, *wd ? wd : ".", file);
        if (fclose(f) != 0) {
            free(line);
            line = NULL;
        }
    }
    free(wd);
    return line;
}
