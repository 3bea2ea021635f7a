/* The later -S options' internal interface (sshmore.c, hostgroup.c,
 * basefile.c, ctlmaster.c, and remote.c's --basefile line), included by
 * cli.h after struct login and struct job. Internal to the CLI. */
#ifndef EVT_CLI_SSHMORE_H
#define EVT_CLI_SSHMORE_H

/* sshmore.c: --env, --basefile, -M, --sshdelay, --hostgroups. */
int sshmore_option(int which, const char *val); /* as sshlogin_option */
int sshmore_check(struct opts *o);
/* --filter-hosts: the logins that fail a login check are dropped (moved
 * past nlogin, still freed), with GNU's warning; -2 when none is left,
 * after its error line; -1 on ENOMEM. */
int sshmore_filter_hosts(void);
/* --env's variables as " NAME=VALUE" words, each quoted times times by fq;
 * its bash functions as the text put before the command (malloc'd). */
void sshmore_env_vars(FILE *f, int times,
                      void (*fq)(FILE *, const char *, int));
char *sshmore_env_funcs(void);
void sshmore_help(FILE *f);
/* recordenv.c: --record-env (1: written, exit 0; -2 after its error line);
 * --env _: every variable and function not in ignored_vars added to names
 * (-2 after an error line, -1 on ENOMEM). */
int recordenv_write(void);
int recordenv_add_all(struct strv *names);
void sshmore_free(void);
/* hostgroup.c: host groups. hostgroup_parse takes @G+G/ off *spec into
 * l (-2 after an error line); hostgroup_select drops the logins outside
 * every -S @G; hostgroup_take takes the @G off each value of a job
 * (--hostgroups) into j->agrp (-2 when no login has its groups, after an
 * error line); hostgroup_pick: the index in free[] of a slot the job may
 * run on, or -1; hostgroup_env: the job's PARALLEL_HOSTGROUPS and
 * PARALLEL_ARGHOSTGROUPS ("NAME=VALUE", malloc'd; NULL without
 * --hostgroups). */
int hostgroup_parse(const char **spec, struct login *l);
int hostgroup_add(struct login *l, const char *name); /* -1: ENOMEM */
int hostgroup_select(void);
int hostgroup_take(struct job *j, struct record *r, size_t n);
long hostgroup_pick(const struct job *j, const int *free, long nfree);
int hostgroup_active(void); /* --hostgroups with -S logins */
char *hostgroup_env(const struct job *j, int which);
void hostgroup_free(void);
/* remote.c: a --basefile's rsync to login l (clean: its removal) as one
 * shell line, malloc'd; NULL on ENOMEM. */
char *remote_basefile(const struct login *l, const char *file, int clean);
/* basefile.c: --basefile to every remote login, before the first job;
 * after the last, with --cleanup, removed. */
void basefile_send(void);
void basefile_remove(void);
/* ctlmaster.c: -M: start a master a login and route its ssh through it
 * (-1 after an error line); at exit stop them and remove their dir. */
int ctlmaster_start(const struct opts *o);
void ctlmaster_stop(void);

#endif
