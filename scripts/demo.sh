#!/bin/sh
# make demo: the main job (a file of items through the batch engine) comes
# with the batch engine (issue 4); until then, the coroutine demo.
set -eu
build=${1:-build}
echo "make demo: the batch engine is not there yet; running the gevent demo instead:"
"$build/examples/gevent_joinall"
