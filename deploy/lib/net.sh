# shellcheck shell=bash
# net.sh: loopback helpers shared by the quickstart, the integration tests and the benchmark.

# free_port: prints a TCP port that is free on 127.0.0.1. It is drawn below the kernel's
# ephemeral range so that outgoing connections of parallel tests do not take it meanwhile.
free_port() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 29999)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port found")
PY
}
