# shellcheck shell=bash
# deps.sh: the Debian packages refnet needs, and how tests/run.sh and deploy/quickstart.sh
# install the missing ones. Sourced, not run.
#
# The rule is the same for both scripts: a package counts as present when dpkg says
# "install ok installed". As root, the missing ones are installed with apt-get (one
# `apt-get update` first). Otherwise nothing is installed: the missing packages are named, with
# the command that installs them, and deps_install returns 1.

REFNET_DEPS=(
    build-essential cmake pkg-config            # compiler and build
    libzmq3-dev libczmq-dev                     # ZeroMQ, CURVE, zauth
    libprotobuf-c-dev protobuf-c-compiler       # wire protocol, generated at build time
    liblmdb-dev libsodium-dev libjansson-dev    # storage, crypto, JSON
    libcmocka-dev                               # unit tests
    libcsv-dev                                  # HSDS CSV import
    python3-jsonschema                          # HSDS export checked against its schemas
    jq python3                                  # integration tests and quickstart
    tcpdump                                     # sealed_canary's traffic capture
    clang libclang-rt-14-dev                    # fuzz targets (libFuzzer)
)

# deps_missing: prints each package of REFNET_DEPS that is not installed, one per line.
deps_missing() {
    local p status
    for p in "${REFNET_DEPS[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || printf '%s\n' "$p"
    done
}

# deps_install: makes sure every package is present. Returns 0 when they all are (installing
# them first as root), 1 when some are missing and this is not root or apt-get failed.
deps_install() {
    local missing=()
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "Not a Debian system (no dpkg-query): not checking packages. refnet needs the" \
            "equivalents of: ${REFNET_DEPS[*]}" >&2
        return 0
    fi
    mapfile -t missing < <(deps_missing)
    if ((${#missing[@]} == 0)); then
        echo "All ${#REFNET_DEPS[@]} required packages are installed."
        return 0
    fi
    if ((EUID != 0)); then
        echo "These Debian packages are missing: ${missing[*]}" >&2
        echo "Install them as root, then run this again:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "Installing the missing packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
        return 1
}
