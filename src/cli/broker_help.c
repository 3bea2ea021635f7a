/* The --help pages of eventor submit, worker, status, results and drop:
 * the one source of their documentation (eventor(1) takes its SUBMIT,
 * WORKER, STATUS, RESULTS and DROP sections from them). */
#include "broker.h"

#include <string.h>

static const char url_text[] =
"URL: redis://[[USER:]PASS@]HOST:PORT/NAME names one batch (HOST 127.0.0.1\n"
"and PORT 6379 when left out, NAME \"default\"). Its keys in Redis are\n"
"eventor:{NAME}:items (a stream; consumer group \"eventor\"),\n"
"eventor:{NAME}:results (a hash: item id -> result), eventor:{NAME}:dead\n"
"(a stream of dead letters) and eventor:{NAME}:log (a hash: item id -> its\n"
"joblog line). Several batches may share one Redis.\n";

static const char exit_text[] =
"Every failure of the broker (unreachable, authentication refused, a key of\n"
"another type, Redis out of memory) is one line on stderr naming the URL,\n"
"as \"eventor: redis://127.0.0.1:1/x: Connection refused\".\n"
"Exit status: 0; 255 for bad usage or a broker failure; 2 when eventor was\n"
"built without Redis support (no hiredis)";

static const char submit_text[] =
"Usage: eventor submit --broker URL [-0 | -d DELIM] [FILE | - | ::: ITEMS...]\n"
"\n"
"Add items to the batch at URL: one per line of FILE (or of standard input\n"
"when FILE is - or not given), or the ITEMS themselves after :::, as the job\n"
"runner reads them (:::: FILES, -a FILE, -0, -d DELIM, -r as in eventor).\n"
"Items are pushed pipelined (XADD), 10000 per round of replies; the stream\n"
"and its consumer group are made when missing. A batch may get items at any\n"
"time, while workers run (they take them as they come).\n"
"\n"
"  --broker URL        the batch\n"
"  -0, --null          items are separated by NUL bytes\n"
"  -d DELIM            items are separated by DELIM\n"
"  -r                  skip empty items\n"
"\n"
"If Redis fails midway, the line says how many items were submitted before:\n"
"submitting the rest again adds them once more (nothing is lost).\n";

static const char worker_text[] =
"Usage: eventor worker --broker URL [OPTIONS] COMMAND [ARGS...]\n"
"  or:  eventor worker --broker URL [OPTIONS] --plugin LIB.so:FN\n"
"\n"
"Take items of the batch at URL and run COMMAND for each, as the job runner\n"
"does (the same placeholders {} {.} {/} {//} {/.} {#} {%}, the same shell\n"
"rules; {#} is the item's input number, as the job runner numbers it, {%}\n"
"its job slot in this worker), or the plugin function FN (as eventor\n"
"--plugin: a newline is added to its result). The command's standard\n"
"output is the item's result (at most 256 KiB: more fails the attempt);\n"
"its standard error goes to the worker's. A non-zero exit, a signal or\n"
"--timeout fails the attempt. Run any number of workers, on any\n"
"number of machines: each item goes to one of them at a time.\n"
"\n"
"  --broker URL        the batch\n"
"  -P, --processes N   run items in N worker processes (P x -j)\n"
"  -j, -c N            items at once (in each process with -P); default:\n"
"                      the CPUs for commands, 100 for a plugin\n"
"  -T, --threads N     with --plugin: run it on N threads (T x -c)\n"
"  --timeout SECS      an attempt running longer is stopped and fails\n"
"  --retries N         tries of an item in this worker before it is let go\n"
"                      (default 1); a failed item is delivered again later\n"
"  --visibility SECS   an item held this long by a worker that does not\n"
"                      renew its lease (a dead one) goes to another\n"
"                      (default 30); a live worker renews every third of it\n"
"  --max-deliveries N  an item delivered more times moves to the\n"
"                      dead-letter stream (default 5)\n"
"  --count N           items read per XREADGROUP (default 64)\n"
"  --consumer NAME     this worker's name in the group (HOSTNAME-PID)\n"
"  --joblog FILE       the joblog of the commands run here, in GNU\n"
"                      parallel's format, as the job runner's --joblog (one\n"
"                      line per delivery, its last try; Seq is the item's\n"
"                      input number, Host this worker's name); +FILE\n"
"                      appends. A line is written once Redis has it: each\n"
"                      delivery's line is also stored with the item (see\n"
"                      eventor results --joblog)\n"
"  --down SECS         give up when Redis stays unreachable this long\n"
"                      (default: wait for it, and go on where it was)\n"
"  --keep SECS         a finished batch's keys expire this long after it\n"
"                      is done (default 604800, 7 days; 0: never)\n"
"  -f, --follow        do not exit when the batch is done: wait for more\n"
"  -q, --quiet         no report line at the end\n"
"\n"
"Delivery is at least once: an item whose worker dies is run again by\n"
"another after --visibility, so a command's side effects may happen twice\n"
"for the items a dead worker was running. Results are stored once per item\n"
"(the first stays), so each item has exactly one result. The worker exits\n"
"when every item of the batch has a result or is dead-lettered (with\n"
"--follow, never). SIGINT or SIGTERM: no new item is started, running ones\n"
"finish (10 s, then they are stopped), the items held and not finished are\n"
"handed back at once, and the worker exits with 128+signal. A report line\n"
"goes to stderr at the end.\n";

static const char status_text[] =
"Usage: eventor status --broker URL [--bar] [--interval SECS]\n"
"\n"
"Print the batch's counts: items, done (with a result), in flight (held by\n"
"a worker), failed (in flight again after a failed try or a lost worker),\n"
"waiting (not delivered yet), dead-lettered; each worker with the items it\n"
"holds; and the rate and ETA, measured over --interval (default 1 s).\n"
"\n"
"  --bar               redraw a progress line on stderr every --interval\n"
"                      until the batch is done\n"
"  --interval SECS     the measuring window and redraw period\n"
"\n"
"A batch that does not exist (nothing was ever submitted to it) is one\n"
"line, \"eventor: URL: no such batch ...\", and exit status 1; looking at\n"
"it creates nothing.\n";

static const char results_text[] =
"Usage: eventor results --broker URL [-k] [--follow] [--jsonl] [--joblog FILE]\n"
"\n"
"Print the results of the batch (each item's command output, as the job\n"
"runner prints it), in input order. Items without a result are left out.\n"
"\n"
"  -k, --keep-order    with --follow: in input order, each as soon as the\n"
"                      ones before it are done\n"
"  -f, --follow        go on printing results as they arrive, until the\n"
"                      batch is done\n"
"  --jsonl             one JSON record per item: {\"seq\":N,\"item\":...,\n"
"                      \"status\":\"done\",\"result\":...}, dead-lettered\n"
"                      items as \"status\":\"dead\"\n"
"  --joblog FILE       also write the batch's one joblog to FILE (+FILE:\n"
"                      append, no header), in input order: each item that\n"
"                      ran has the line of its stored result's delivery,\n"
"                      or, when it has no result (failed, dead-lettered),\n"
"                      of its last failed delivery; Host says which\n"
"                      worker. Items of commands only (a plugin has none)\n"
"\n"
"Exit status: the number of dead-lettered items (at most 101), as the job\n"
"runner counts its failed jobs.\n";

static const char drop_text[] =
"Usage: eventor drop --broker URL\n"
"\n"
"Delete the batch's keys (items, results, dead letters, joblog lines).\n"
"Stop its workers first: a worker still running on a dropped batch fails\n"
"(Redis's NOGROUP).\n"
"A finished batch also goes by itself, --keep after a worker found it done\n"
"(see eventor worker --help).\n";

void broker_help(const char *sub, FILE *f)
{
    const char *text = !strcmp(sub, "submit")    ? submit_text
                       : !strcmp(sub, "worker")  ? worker_text
                       : !strcmp(sub, "status")  ? status_text
                       : !strcmp(sub, "results") ? results_text
                                                 : drop_text;
    fputs(text, f);
    fputc('\n', f);
    fputs(url_text, f);
    fputc('\n', f);
    fputs(exit_text, f);
    fputs(!strcmp(sub, "results") ? " (results: else as above).\n" : ".\n",
          f);
}
