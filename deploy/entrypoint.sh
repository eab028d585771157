#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Entrypoint of the patchfleet image (deploy/Dockerfile): one image serves every role, and the
# first argument picks it, so compose, Kubernetes and `docker run` all read the same way:
#   producer|worker|aggregator ARGS...  ->  patchfleet-producer|-worker|-aggregator ARGS...
#   patchfleet|cli ARGS...              ->  patchfleet ARGS... (plan, patch, summary, ...)
#   anything else                       ->  run as given (a shell for debugging)
# exec keeps the binary as PID 1's direct replacement, so SIGTERM reaches it and the worker's
# grace period (--grace) works under `docker stop` and Kubernetes.
set -eu

# PATCHFLEET_BINDIR lets the tests run this script against a build tree.
bindir=${PATCHFLEET_BINDIR:-/usr/local/bin}
if [ "$#" -eq 0 ]; then
    set -- --help
fi
role=$1
case "$role" in
producer | worker | aggregator)
    shift
    exec "$bindir/patchfleet-$role" "$@"
    ;;
patchfleet | cli)
    shift
    exec "$bindir/patchfleet" "$@"
    ;;
-h | --help)
    echo "usage: ROLE [ARGS...]   ROLE: producer | worker | aggregator | patchfleet"
    echo "       '<role> --help' shows that role's options"
    exit 0
    ;;
*)
    exec "$@"
    ;;
esac
