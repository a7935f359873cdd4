#!/usr/bin/env bash
# local_access: on the host, only the agency's own user reaches a node's local API and the keys.
#
#   - The node's local API socket (DIR/api.sock) is mode 0600. Run as root with a `nobody`
#     user, the test lets `nobody` traverse the folders (so that the socket's own mode is the
#     only barrier) and checks that `nobody` is refused: a connect() gets EACCES, and the refnet
#     CLI fails, while the owner's CLI works. Without root or a second user only the mode is
#     asserted (and the test says so).
#   - Every secret key file (CURVE *_secret, the broker's sign.key, each node's seal.key) is mode
#     0600, and `nobody` cannot read one.
#   - No secret key appears in any daemon's log, even at debug level after a whole handoff
#     (sealed and opened with those keys): each Z85 CURVE secret and each hex seed is searched
#     for in every log, whole and by a 16-character prefix.
# shellcheck disable=SC2034 # read by lib.sh
REFNET_TEST_LOG_LEVEL=${REFNET_TEST_LOG_LEVEL:-debug}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

OTHER=nobody

log_step "network at debug log level: broker, two agencies, one handoff"
start_broker
start_node peerlink "Peer Link"
start_node harbor "Harbor House"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 5 --available 2
wait_service peerlink harbor-detox
add_person peerlink "Local Access Person" "555-0142"
grant peerlink "$PERSON" harbor contact,notes
start_handoff peerlink "$PERSON" harbor-detox --note "a note"
wait_json 15 "harbor to receive and open the handoff" '.person.name == "Local Access Person"' \
    rn harbor handoff show "$HANDOFF" --json
ok rn harbor handoff accept "$HANDOFF"
wait_handoff_status peerlink "$HANDOFF" accepted

log_step "socket and key file modes"
for id in peerlink harbor; do
    [[ -S $T/$id/api.sock ]] || fail "$id has no API socket"
    assert_eq 600 "$(stat -c %a "$T/$id/api.sock")" "mode of $id/api.sock"
done
mapfile -t SECRETS < <(find "$T" -path "$T/logs" -prune -o -type f \
    \( -name '*_secret' -o -name 'sign.key*' -o -name 'seal.key*' \) -print | sort)
((${#SECRETS[@]} >= 5)) || fail "expected at least 5 secret key files, found: ${SECRETS[*]}"
for f in "${SECRETS[@]}"; do
    assert_eq 600 "$(stat -c %a "$f")" "mode of ${f#"$T"/}"
done
echo "  api.sock of both nodes and ${#SECRETS[@]} secret key files are mode 0600"

log_step "another user is refused by the API socket"
# can_switch: root, a user $OTHER, and setpriv to become it.
can_switch() {
    [[ $(id -u) == 0 ]] && id "$OTHER" >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1
}
# as_other CMD...: runs CMD as $OTHER, with a system PATH (root's may point into /root).
as_other() {
    setpriv --reuid="$OTHER" --regid="$(id -g "$OTHER")" --clear-groups -- \
        env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
if can_switch; then
    # Open the folders for traversal only, so that the socket's own mode is what refuses.
    chmod 0711 "$T" "$T/harbor"
    as_other test -S "$T/harbor/api.sock" || fail "$OTHER cannot even see the socket: the test \
would not show that the socket's mode refuses"
    run as_other python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
    sys.exit(0)
print("connected")
sys.exit(1)' "$T/harbor/api.sock"
    assert_eq "0:EACCES" "$RC:$OUT" "$OTHER connecting to harbor's api.sock (exit:result)"
    echo "  $OTHER: connect() to harbor's api.sock refused with EACCES"
    # The CLI too, when $OTHER may run it at all (the build folder may be closed to it).
    if as_other "$REFNET_BIN/refnet" --help >/dev/null 2>&1; then
        run as_other timeout 30 "$REFNET_BIN/refnet" --node "$T/harbor" status --json
        ((RC != 0 && RC != 124)) || fail "$OTHER: 'refnet status' on harbor's node: exit $RC: $OUT"
        echo "  $OTHER: refnet status failed (exit $RC): ${ERR:0:200}"
    else
        echo "$TEST_NAME: $OTHER cannot run $REFNET_BIN/refnet; the CLI part is skipped" >&2
    fi
    for f in "$T/harbor/agency.cert_secret" "$T/harbor/seal.key"; do
        if as_other cat "$f" >/dev/null 2>&1; then
            fail "$OTHER can read ${f#"$T"/}"
        fi
    done
    ok_json rn harbor status --json # the owner still can
    chmod 0700 "$T" "$T/harbor"
else
    echo "$TEST_NAME: no root or no '$OTHER' user (or no setpriv): only the socket's mode 0600" \
        "was checked" >&2
fi

log_step "no secret key in any daemon's log"
finish
# secrets_of FILE: the secret strings a key file holds (Z85 secret-key of a CURVE certificate,
# or the hex seed of sign.key and seal.key).
secrets_of() {
    if [[ $1 == *_secret ]]; then
        sed -n 's/^ *secret-key = "\(.*\)"$/\1/p' "$1"
    else
        grep -o -E '[0-9a-fA-F]{32,}' "$1"
    fi
}
n=0
for f in "${SECRETS[@]}"; do
    mapfile -t words < <(secrets_of "$f")
    ((${#words[@]} > 0)) || fail "no secret found in ${f#"$T"/}: the search would be blind"
    for w in "${words[@]}"; do
        for needle in "$w" "${w:0:16}"; do
            if grep -a -r -F -i -q -- "$needle" "$T/logs"; then
                grep -a -r -F -i -l -- "$needle" "$T/logs" >&2
                fail "a secret of ${f#"$T"/} appears in the logs above"
            fi
        done
        n=$((n + 1))
    done
done
lines=$(cat "$T"/logs/*.log | wc -l)
((lines > 50)) || fail "the logs hold only $lines lines: debug logging did not happen"
echo "  $n secrets searched for in $lines log lines: none found"
