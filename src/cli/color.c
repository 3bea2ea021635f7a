/* GNU parallel's --color, --ctag, --ctagstring and --color-failed: each
 * job's output lines in colours of their own, picked by {#} from GNU's list
 * of readable combinations in GNU's order (so both tools colour job N
 * alike), or white on red for a job that failed (--color-failed). Grouped
 * output is coloured (output.c) and, with --color, line-buffered output
 * (linebuf.c, as GNU's --lb colours it); without a terminal GNU's codes
 * to clear the line and reset are \033[K and \033[m, used here always. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#define NCOLORS 307
#define EOL "\033[K"

static char palette[NCOLORS][32];

/* GNU's combinations: black text on these backgrounds, then white. */
static const unsigned char on_black[][2] = {
    {6, 7}, {9, 11}, {13, 15}, {40, 51}, {75, 87}, {113, 123}, {147, 159},
    {171, 182}, {185, 231}, {249, 254}};
static const unsigned char on_white[][2] = {
    {1, 9}, {12, 13}, {16, 45}, {52, 81}, {88, 114}, {124, 149}, {160, 178},
    {180, 180}, {182, 184}, {196, 214}, {232, 250}};

/* GNU's reordering, so that adjacent colours differ: by i % 23, then by
 * i % 7 from the top (Perl's sort is stable: then by i). */
static int cmp(const void *a, const void *b)
{
    int i = *(const int *)a, k = *(const int *)b;
    if (i % 23 != k % 23)
        return i % 23 - k % 23;
    if (i % 7 != k % 7)
        return k % 7 - i % 7;
    return i - k;
}

static void make_palette(void)
{
    int bg[NCOLORS], fg[NCOLORS], order[NCOLORS], n = 0;
    for (size_t r = 0; r < sizeof on_black / sizeof *on_black; r++)
        for (int c = on_black[r][0]; c <= on_black[r][1]; c++)
            bg[n] = c, fg[n++] = 0;
    for (size_t r = 0; r < sizeof on_white / sizeof *on_white; r++)
        for (int c = on_white[r][0]; c <= on_white[r][1]; c++)
            bg[n] = c, fg[n++] = 231;
    for (int i = 0; i < NCOLORS; i++)
        order[i] = i;
    qsort(order, NCOLORS, sizeof *order, cmp);
    for (int i = 0; i < NCOLORS; i++)
        snprintf(palette[i], sizeof palette[i], "\033[48;5;%03d;38;5;%03dm" EOL,
                 bg[order[i]], fg[order[i]]);
}

const char *color_of(const struct opts *o, const struct job *j)
{
    if (o->color_failed && (j->exitval || j->sig))
        return "\033[48;5;196;38;5;231m" EOL;
    if (!o->color)
        return o->color_failed ? "" : NULL;
    if (!palette[0][0])
        make_palette();
    return palette[j->seq % NCOLORS];
}
