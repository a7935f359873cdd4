#!/usr/bin/env bash
# node_batches: two agencies exchange handoffs in both directions over a broker that takes
# Batch frames; every handoff is applied exactly once, in order, and receipted, and the nodes'
# own counters show that batches carried the traffic both ways.
#
# Each node's `status` shows its link counters (frames, batches and envelopes each way). Both
# Hello and Welcome say batches, so under load the broker packs its deliveries and answers for
# a node, and a node packs the outbox items it sends at once (several free window slots after
# a group commit's answers). A node that never received or sent a batch, or whose frames carried no more
# envelopes than there were frames, fails the test.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

N=${FAULT_COUNT:-600}

# batch_counts ID: sets IN_FRAMES IN_BATCHES IN_ENVS OUT_FRAMES OUT_BATCHES OUT_ENVS from the
# link counters of node ID's `status` (API.md).
batch_counts() {
    local link
    link=$(rn "$1" status --json | jq -c '.link') || fail "node $1: status failed"
    [[ $link != null ]] || fail "node $1: status has no link counters"
    IN_FRAMES=$(jq '.frames_in' <<<"$link") IN_BATCHES=$(jq '.batches_in' <<<"$link")
    IN_ENVS=$(jq '.envelopes_in' <<<"$link") OUT_FRAMES=$(jq '.frames_out' <<<"$link")
    OUT_BATCHES=$(jq '.batches_out' <<<"$link") OUT_ENVS=$(jq '.envelopes_out' <<<"$link")
    echo "  $1: in $IN_FRAMES frames ($IN_BATCHES batches) carrying $IN_ENVS envelopes;" \
        "out $OUT_FRAMES frames ($OUT_BATCHES batches) carrying $OUT_ENVS envelopes"
}

log_step "network: broker and two agencies"
start_broker
for a in harbor northside; do
    fault_agency "$a"
done
fault_wait_directory harbor northside
for a in harbor northside; do
    grep -q "welcomed by the broker as $a (directory head [0-9]*, batches)" "$T/logs/$a.log" ||
        fail "the broker's Welcome to $a did not say it takes batches"
done

log_step "$N handoffs each way at once"
load_start harbor northside "$N" h2n
load_start northside harbor "$N" n2h
load_wait 120
wait_loaded 90 harbor northside "$N" h2n
wait_loaded 90 northside harbor "$N" n2h
for a in harbor northside; do
    wait_json 20 "$a's outbox to drain" '.outbox == 0' rn "$a" status --json
done

log_step "batches carried the traffic both ways"
for a in harbor northside; do
    batch_counts "$a"
    ((IN_BATCHES > 0)) || fail "$a received no Batch frame"
    ((IN_ENVS > IN_FRAMES)) || fail "$a: $IN_FRAMES frames in carried only $IN_ENVS envelopes"
    ((OUT_BATCHES > 0)) || fail "$a sent no Batch frame"
    ((OUT_ENVS > OUT_FRAMES)) || fail "$a: $OUT_FRAMES frames out carried only $OUT_ENVS envelopes"
done
finish
