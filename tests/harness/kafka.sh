# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# A real single-node Apache Kafka broker (KRaft, controller + broker in one JVM) for the fleet
# tests. The jars come from Maven Central (org.apache.kafka:kafka_2.13 4.x, kafka-tools for
# TopicCommand, their runtime dependencies, plus a log4j2 backend) into a cache outside the repository, fetched once:
#   ${PF_CACHE:-$HOME/.cache/patchfleet}/kafka-<version>/libs
# Source lib.sh first (pf_tmpdir, pf_spawn, pf_cleanup stop the broker on exit), then:
#
#   . "$PF_SRC/tests/harness/kafka.sh"
#   pf_kafka_start                      # $KAFKA_BOOTSTRAP (reuses an existing one when set)
#   pf_kafka_topic patchfleet.jobs 6    # create a topic with 6 partitions
#
# Topics: the broker auto-creates topics with num.partitions (6) on first use, but the tests
# create theirs explicitly with org.apache.kafka.tools.TopicCommand so the count is known.

PF_KAFKA_VERSION=${PF_KAFKA_VERSION:-4.1.0}
PF_KAFKA_LOG4J_VERSION=${PF_KAFKA_LOG4J_VERSION:-2.24.3}
# A JVM broker formats and starts in ~5-15 s on this machine; allow more on a busy one.
PF_KAFKA_READY_TIMEOUT=${PF_KAFKA_READY_TIMEOUT:-90}

# pf_kafka_libs: prints the directory holding the broker's jars, fetching them with Maven the
# first time. A fetch goes to a temp dir that is renamed into place, so a cut download never
# leaves a half-filled cache behind.
pf_kafka_libs() {
    local cache=${PF_CACHE:-$HOME/.cache/patchfleet} dir tmp
    dir="$cache/kafka-$PF_KAFKA_VERSION"
    if [ -f "$dir/libs/.complete-2" ]; then
        printf '%s\n' "$dir/libs"
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || pf_fail "mvn is needed to fetch Kafka $PF_KAFKA_VERSION"
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/kafka-fetch.XXXXXX")
    cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>patchfleet.test</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$PF_KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$PF_KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$PF_KAFKA_LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>$PF_KAFKA_LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    if ! (cd "$tmp" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp/libs") >"$tmp/mvn.log" 2>&1; then
        tail -n 30 "$tmp/mvn.log" >&2
        rm -rf "$tmp"
        pf_fail "cannot fetch Kafka $PF_KAFKA_VERSION from Maven Central"
    fi
    touch "$tmp/libs/.complete-2"
    rm -rf "$dir"
    mkdir -p "$dir"
    mv "$tmp/libs" "$dir/libs"
    rm -rf "$tmp"
    printf '%s\n' "$dir/libs"
}

# pf_kafka_wait BOOTSTRAP PID LOG: waits until the broker answers a metadata request with at
# least one broker (kcat -L), failing with the log tail if PID dies or time runs out.
pf_kafka_wait() {
    local bs=$1 pid=$2 log=$3 deadline
    deadline=$((SECONDS + PF_KAFKA_READY_TIMEOUT))
    while ! kcat -b "$bs" -L -m 2 2>/dev/null | grep -q '1 brokers'; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            pf_fail "kafka broker exited during start-up (log: $log)"
        fi
        [ "$SECONDS" -lt "$deadline" ] ||
            pf_fail "kafka broker not ready after ${PF_KAFKA_READY_TIMEOUT}s (log: $log)"
        sleep 0.3
    done
}

# pf_kafka_start: starts a broker with its data in $PF_TMP/kafka and exports KAFKA_BOOTSTRAP,
# KAFKA_LIBS, KAFKA_PID, KAFKA_LOG and KAFKA_DIR. With KAFKA_BOOTSTRAP already set, uses that
# cluster instead (it only checks that it answers). The broker is stopped by pf_cleanup.
pf_kafka_start() {
    pf_require kcat java
    [ -n "$PF_TMP" ] || pf_tmpdir
    if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
        pf_kafka_wait "$KAFKA_BOOTSTRAP" '' /dev/null
        export KAFKA_BOOTSTRAP
        return 0
    fi
    local libs d port cport cid
    libs=$(pf_kafka_libs)
    d="$PF_TMP/kafka"
    mkdir -p "$d/data"
    port=$(pf_free_port)
    cport=$(pf_free_port)
    while [ "$cport" = "$port" ]; do cport=$(pf_free_port); done
    cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
EOF
    cat >"$d/log4j2.properties" <<EOF
rootLogger.level=WARN
rootLogger.appenderRef.out.ref=OUT
appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
EOF
    local jopts=(-Xmx512m -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
        -Dlog4j2.configurationFile="$d/log4j2.properties" -cp "$libs/*")
    cid=$(java "${jopts[@]}" kafka.tools.StorageTool random-uuid 2>>"$d/format.log" | tail -n 1)
    java "${jopts[@]}" kafka.tools.StorageTool format --standalone -t "$cid" \
        -c "$d/server.properties" >>"$d/format.log" 2>&1 ||
        { cat "$d/format.log" >&2; pf_fail "kafka storage format failed"; }
    pf_spawn "$d/broker.log" java "${jopts[@]}" kafka.Kafka "$d/server.properties"
    export KAFKA_PID=$PF_LAST_PID KAFKA_LOG="$d/broker.log" KAFKA_DIR="$d" KAFKA_LIBS="$libs"
    export KAFKA_BOOTSTRAP="127.0.0.1:$port"
    pf_kafka_wait "$KAFKA_BOOTSTRAP" "$KAFKA_PID" "$KAFKA_LOG"
}

# pf_kafka_wait_assigned LOG...: waits (up to 20 s, then goes on) until one of the worker logs
# says it was assigned partitions, so that jobs published next meet a formed consumer group.
pf_kafka_wait_assigned() {
    local _
    for _ in $(seq 1 100); do
        grep -q 'assigned' "$@" 2>/dev/null && return 0
        sleep 0.2
    done
}

# pf_kafka_topic NAME PARTITIONS: creates topic NAME (replication 1) unless it exists. Uses the
# broker's own TopicCommand, so it needs the cached jars even with an external KAFKA_BOOTSTRAP.
pf_kafka_topic() {
    local name=$1 parts=$2 libs
    libs=${KAFKA_LIBS:-$(pf_kafka_libs)}
    java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="${KAFKA_DIR:-.}/log4j2.properties" \
        -cp "$libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
        --create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1 \
        >/dev/null 2>"$PF_TMP/topic-$name.err" ||
        { cat "$PF_TMP/topic-$name.err" >&2; pf_fail "cannot create topic '$name'"; }
}

# pf_kafka_consume TOPIC COUNT TIMEOUT_S: prints COUNT message values of TOPIC from the start, one
# per line (kcat); stops after TIMEOUT_S seconds even if fewer arrived.
pf_kafka_consume() {
    local topic=$1 count=$2 t=$3
    timeout "$t" kcat -b "$KAFKA_BOOTSTRAP" -C -t "$topic" -o beginning -c "$count" -q \
        -f '%s\n' 2>/dev/null || true
}
