#!/usr/bin/env bash
# fault_busy_broker: a broker whose loop is silent for longer than three heartbeats, while the
# connection stays up, makes no node say Hello again, and nothing is delivered twice.
#
# Two agencies exchange handoffs both ways, and while the traffic runs the broker is frozen
# (SIGSTOP) for FREEZE_S seconds, four of its heartbeats. A broker that is only busy still has its
# I/O thread answering the ZMTP heartbeats; a frozen one does not, so the nodes here run with a
# node heartbeat long enough (NODE_HB_MS; the ZMTP timeout is three of them) that the freeze
# does not drop their connections. The nodes still Ping at the broker's heartbeat (from its
# Welcome), which is what used to count as silence.
#
# Checked: every handoff is applied exactly once, in order, and receipted; each node had one
# session (the "sessions" counter it logs on stop) and resent nothing; the broker redelivered
# nothing (the "redelivered" counter it logs on stop). One thing is outside the nodes' hands:
# a frozen broker's I/O thread is frozen too, and a ZMTP PING it sent just before (with its TTL
# of three broker heartbeats) or a PING it was waiting to have answered can still close the
# connection on either side. The traffic keeps that window to milliseconds (any frame after the
# PING cancels its timer); when it happens anyway the node logs "connection to the broker
# lost", the new connection is rightly served from the head of the window, and the test says
# so and checks delivery only.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

N=${FAULT_COUNT:-900} # loadgen check reads at most 1000 handoffs
FREEZE_S=2
NODE_HB_MS=3000

# busy_agency ID: like fault_agency, with the node heartbeat NODE_HB_MS.
busy_agency() {
    local id=$1
    init_node "$id"
    enroll_node "$id"
    lib_spawn "$id" "$T/logs/$id.log" "$REFNET_BIN/refnet-node" run --data "$T/$id" \
        --log-level "$LOG_LEVEL" --heartbeat-ms "$NODE_HB_MS"
    NODE_PID[$id]=$LIB_LAST_PID
    wait_for 20 "node $id to answer on its local API" lib_node_answers "$id"
    wait_connected "$id"
    publish "$id" "$id-svc" "$id intake" peer-support --capacity 1000000 --available 1000000
    SERVICE_OF[$id]=$id-svc
    add_person "$id" "Person of $id"
    PERSON_OF[$id]=$PERSON
    grant "$id" "$PERSON" '*' notes
}

# link_counter ID WORD: the number before WORD in the last link counter line of node ID.
link_counter() {
    local line
    line=$(grep -E 'node: link: [0-9]+ sent' "$T/logs/$1.log" | tail -n 1) ||
        fail "node $1 logged no link counters"
    [[ $line =~ ([0-9]+)\ $2 ]] || fail "node $1: no '$2' in: $line"
    echo "${BASH_REMATCH[1]}"
}

lost_connections() {
    cat "$T"/logs/harbor.log "$T"/logs/northside.log |
        grep -c "connection to the broker lost" || true
}

log_step "network: broker (heartbeat $HB_MS ms) and two agencies (node heartbeat $NODE_HB_MS ms)"
start_broker
for a in harbor northside; do
    busy_agency "$a"
done
fault_wait_directory harbor northside

log_step "$N handoffs each way; the broker is frozen for ${FREEZE_S}s meanwhile"
load_start harbor northside "$N" h2n
load_start northside harbor "$N" n2h
sleep 0.3
kill -STOP "$BROKER_PID"
sleep "$FREEZE_S"
kill -CONT "$BROKER_PID"
grep -q "no word from the broker" "$T/logs/harbor.log" "$T/logs/northside.log" ||
    fail "no node noticed the broker's silence: the freeze was too short to test anything"
load_wait 120
wait_loaded 90 harbor northside "$N" h2n
wait_loaded 90 northside harbor "$N" n2h
for a in harbor northside; do
    wait_json 20 "$a's outbox to drain" '.outbox == 0' rn "$a" status --json
done
LOST=$(lost_connections)

log_step "no Hello on a live connection, nothing sent twice"
for a in harbor northside; do
    stop_node "$a"
done
stop_broker
REDELIVERED=$(grep -oE 'redelivered=[0-9]+' "$T/logs/broker.log" | tail -n 1 | cut -d= -f2)
[[ -n $REDELIVERED ]] || fail "the broker logged no counters"
echo "  broker redelivered=$REDELIVERED; connections lost: $LOST"
grep -hE 'link: (no word|connection to the broker lost|welcomed)' "$T"/logs/harbor.log \
    "$T"/logs/northside.log | sed 's/^/  /'
if ((LOST == 0)); then
    for a in harbor northside; do
        s=$(link_counter "$a" sessions)
        r=$(link_counter "$a" resent)
        echo "  $a: $s sessions, $r resent"
        ((s == 1)) || fail "$a began $s sessions on one connection (said Hello again)"
        ((r == 0)) || fail "$a resent $r outbox items"
    done
    ((REDELIVERED == 0)) || fail "the broker redelivered $REDELIVERED messages"
else
    echo "  a connection was closed by the broker's libzmq on waking (see the header);" \
        "only delivery was checked"
fi
finish
