# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# A real redis-server for the fleet tests, on a free loopback port with its dir (and its log)
# in the test's temp dir, stopped by pf_cleanup on exit. Source lib.sh first, then:
#
#   . "$PF_SRC/tests/harness/redis.sh"
#   pf_redis_start            # $REDIS_URL, $REDIS_PORT, $REDIS_HOST
#   pf_redis_restart          # stop and start it again on the same port (same data dir)
#
# REDIS_URL already set means "use that server instead": nothing is started, and
# pf_redis_restart refuses (a test must not restart a server it does not own).

PF_REDIS_OWNED=0

# pf_redis_cli ARGS...: redis-cli against $REDIS_URL (-u understands the password and DB).
pf_redis_cli() {
    redis-cli -u "$REDIS_URL" --no-auth-warning "$@"
}

# pf_redis_spawn: starts redis-server on $REDIS_PORT and waits for PONG.
pf_redis_spawn() {
    local deadline=$((SECONDS + PF_READY_TIMEOUT))
    pf_spawn "$PF_TMP/redis/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --dir "$PF_TMP/redis" --appendonly yes --appendfsync always --save '' \
        --daemonize no --protected-mode yes
    PF_REDIS_PID=$PF_LAST_PID
    until [ "$(pf_redis_cli PING 2>/dev/null || true)" = PONG ]; do
        if ! kill -0 "$PF_REDIS_PID" 2>/dev/null; then
            tail -n 20 "$PF_TMP/redis/redis.log" >&2 || true
            pf_fail "redis-server exited during start-up"
        fi
        [ "$SECONDS" -lt "$deadline" ] || pf_fail "redis-server not ready after ${PF_READY_TIMEOUT}s"
        sleep 0.05
    done
}

# pf_redis_start: uses $REDIS_URL when set, else starts a private redis-server. The append-only
# file makes a restart keep the data, as a production server with persistence would.
pf_redis_start() {
    pf_require redis-server redis-cli
    if [ -n "${REDIS_URL:-}" ]; then
        pf_redis_cli PING >/dev/null || pf_fail "REDIS_URL=$REDIS_URL does not answer"
        return 0
    fi
    mkdir -p "$PF_TMP/redis"
    REDIS_HOST=127.0.0.1
    REDIS_PORT=$(pf_free_port)
    REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/0"
    export REDIS_URL REDIS_HOST REDIS_PORT
    PF_REDIS_OWNED=1
    pf_redis_spawn
}

# pf_redis_stop: stops the private server (TERM, wait).
pf_redis_stop() {
    [ "$PF_REDIS_OWNED" = 1 ] || pf_fail "refusing to stop a redis-server this test did not start"
    kill "$PF_REDIS_PID" 2>/dev/null || true
    wait "$PF_REDIS_PID" 2>/dev/null || true
}

# pf_redis_restart [SECONDS]: stops the private server, stays down SECONDS (default 0), starts it
# again on the same port with the same data dir.
pf_redis_restart() {
    pf_redis_stop
    sleep "${1:-0}"
    pf_redis_spawn
}
