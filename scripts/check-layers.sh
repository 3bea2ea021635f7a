#!/bin/sh
# Fails when an #include "..." in src/ goes up a layer: the layer table of
# DESIGN.md ("Layers and folders"), written out below. A file may include
# its own folder, the layers its folder may use, and the public header.
# Usage: scripts/check-layers.sh [source root]  (default: this checkout)
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2

# folder: the folders it may include from. "public" means include/ only.
allowed() {
    case $1 in
    core) echo "" ;;
    loop) echo "core" ;;
    thread) echo "core loop" ;;
    io) echo "core loop thread" ;;
    sync) echo "core loop" ;;
    ipc) echo "core loop io" ;;
    process) echo "core loop thread io sync ipc" ;;
    http) echo "core loop io thread" ;;
    hook) echo "core loop io thread" ;;
    batch) echo "core loop thread io sync ipc process http hook" ;;
    broker) echo "core loop thread io sync ipc process http hook batch" ;;
    cli) echo "public" ;;
    *) echo "?" ;;
    esac
}

# Lines "file<TAB>included name" for every quoted include under src/.
list_includes() {
    find src -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' \) |
        LC_ALL=C sort | while read -r f; do
            sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
                while read -r inc; do printf '%s\t%s\n' "$f" "$inc"; done
        done
}

# The folder under src/ that an include of inc from file f lands in, or
# "public" for the public header(s) in include/, or "" when not found.
target_of() {
    dir=$(dirname "$1")
    for cand in "$dir/$2" "src/$2"; do
        if [ -f "$cand" ]; then
            # normalise a/b/../c to a/c
            p=$(printf '%s\n' "$cand" | awk -F/ '{
                n = 0
                for (i = 1; i <= NF; i++) {
                    if ($i == "." || $i == "") continue
                    if ($i == ".." && n > 0) { n--; continue }
                    part[++n] = $i
                }
                out = part[1]
                for (i = 2; i <= n; i++) out = out "/" part[i]
                print out }')
            case $p in
            src/*/*) printf '%s\n' "$p" | cut -d/ -f2; return ;;
            esac
        fi
    done
    case $2 in
    */*) ;;
    *) if [ -f "include/$2" ] || [ -f "cmake/$2.in" ]; then
            echo public
            return
        fi ;;
    esac
    echo ""
}

bad=0
tab=$(printf '\t')
list_includes > "${TMPDIR:-/tmp}/check-layers.$$"
while IFS="$tab" read -r f inc; do
    from=$(printf '%s\n' "$f" | cut -d/ -f2)
    ok=$(allowed "$from")
    if [ "$ok" = "?" ]; then
        echo "$f: folder src/$from is not in the layer table (scripts/check-layers.sh, DESIGN.md)"
        bad=1
        continue
    fi
    to=$(target_of "$f" "$inc")
    if [ -z "$to" ]; then
        echo "$f: #include \"$inc\" names no file in src/ or include/"
        bad=1
        continue
    fi
    [ "$to" = public ] && continue
    [ "$to" = "$from" ] && continue
    case " $ok " in
    *" $to "*) continue ;;
    esac
    if [ "$ok" = public ]; then
        echo "$f: #include \"$inc\": src/$from may use the public header only"
    else
        echo "$f: #include \"$inc\" goes up from $from to $to (allowed: ${ok:-none})"
    fi
    bad=1
done < "${TMPDIR:-/tmp}/check-layers.$$"
rm -f "${TMPDIR:-/tmp}/check-layers.$$"
[ $bad = 0 ] && echo "layers: every include in src/ goes down the layer table"
exit $bad
