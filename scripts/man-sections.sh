#!/bin/sh
# The subcommands' pages of eventor(1), as a help2man --include file: each
# subcommand's --help (the one source of its documentation) as a section of
# its own, kept as printed (no filling), with roff's special characters
# escaped. Usage: scripts/man-sections.sh EVENTOR OUT
set -eu
eventor=$1 out=$2
: >"$out"
for sub in fetch submit worker status results drop; do
  "$eventor" "$sub" --help >/dev/null 2>&1 || continue
  name=$(echo "$sub" | tr a-z A-Z)
  {
    printf '[EVENTOR %s]\n.nf\n' "$name"
    "$eventor" "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    printf '.fi\n\n'
  } >>"$out"
done
