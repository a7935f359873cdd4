/* bsock: ROUTER options, sends and receives at the libzmq level (see bsock.h). */
#include "bsock.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "refnet_error.h"
#include "wire.h"

/* ZMQ_ZAP_ENFORCE_DOMAIN is still a draft option in the Debian libzmq headers, and czmq's
 * setter is compiled as a no-op there, so the broker sets it by number and reads it back. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#    define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

static int
bsock_setopt_int(void *handle, int option, int value, const char *name)
{
    if (zmq_setsockopt(handle, option, &value, sizeof value) == 0)
        return 0;
    log_error("socket option %s=%d refused: %s", name, value, zmq_strerror(zmq_errno()));
    return REFNET_EIO;
}

/* Enforcing the ZAP domain is what makes "an unknown key cannot connect" hold even if the
 * ZAP handler were missing, so the broker refuses to run without it. */
static int
bsock_enforce_domain(void *handle)
{
    int value = 0;
    size_t len = sizeof value;
    int rc = bsock_setopt_int(handle, ZMQ_ZAP_ENFORCE_DOMAIN, 1, "ZMQ_ZAP_ENFORCE_DOMAIN");
    if (rc)
        return rc;
    if (zmq_getsockopt(handle, ZMQ_ZAP_ENFORCE_DOMAIN, &value, &len) != 0 || value != 1) {
        log_error("libzmq does not enforce the ZAP domain; refusing to serve");
        return REFNET_EIO;
    }
    return 0;
}

int
bsock_setup_router(zsock_t *sock, zcert_t *cert, uint32_t heartbeat_ms)
{
    void *h = zsock_resolve(sock);
    int hb = (int)heartbeat_ms;
    zcert_apply(cert, sock);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, BSOCK_ZAP_DOMAIN);
    int rc = bsock_enforce_domain(h);
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_ROUTER_HANDOVER, 1, "ZMQ_ROUTER_HANDOVER");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_LINGER, BROKER_LINGER_MS, "ZMQ_LINGER");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_SNDHWM, BROKER_SNDHWM, "ZMQ_SNDHWM");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_HEARTBEAT_IVL, hb, "ZMQ_HEARTBEAT_IVL");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_HEARTBEAT_TIMEOUT, hb * BROKER_OFFLINE_INTERVALS,
                              "ZMQ_HEARTBEAT_TIMEOUT");
    if (!rc)
        rc = bsock_setopt_int(h, ZMQ_HEARTBEAT_TTL, hb * BROKER_OFFLINE_INTERVALS,
                              "ZMQ_HEARTBEAT_TTL");
    if (!rc) {
        int64_t max = WIRE_MAX_FRAME;
        if (zmq_setsockopt(h, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0) {
            log_error("socket option ZMQ_MAXMSGSIZE refused: %s", zmq_strerror(zmq_errno()));
            rc = REFNET_EIO;
        }
    }
    return rc;
}

int
bsock_send(void *sock, const uint8_t *rid, size_t rid_len, const void *data, size_t len)
{
    if (zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        goto fail;
    /* With ZMQ_ROUTER_MANDATORY the routing frame is where EAGAIN and EHOSTUNREACH appear;
     * once it is accepted the body frame always is too. */
    if (zmq_send(sock, data, len, ZMQ_DONTWAIT) < 0)
        goto fail;
    return 0;
fail:
    switch (zmq_errno()) {
    case EAGAIN:
        return BSOCK_BUSY;
    case EHOSTUNREACH:
        return REFNET_EUNAVAIL;
    default:
        log_warn("send failed: %s", zmq_strerror(zmq_errno()));
        return REFNET_EIO;
    }
}

static void
bsock_drain(void *sock)
{
    int more = 1;
    size_t len = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t junk;
        zmq_msg_init(&junk);
        int rc = zmq_msg_recv(&junk, sock, 0);
        zmq_msg_close(&junk);
        if (rc < 0)
            break;
    }
}

int
bsock_recv(void *sock, bsock_msg_t *m)
{
    zmq_msg_init(&m->rid);
    zmq_msg_init(&m->body);
    m->user_id = "";
    m->well_formed = false;
    if (zmq_msg_recv(&m->rid, sock, ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EAGAIN ? BSOCK_BUSY : REFNET_EIO;
    if (!zmq_msg_more(&m->rid))
        return 0; /* a ROUTER always prefixes the routing id; nothing to answer */
    if (zmq_msg_recv(&m->body, sock, 0) < 0)
        return REFNET_EIO;
    const char *uid = zmq_msg_gets(&m->body, "User-Id");
    m->user_id = uid ? uid : "";
    m->well_formed = !zmq_msg_more(&m->body);
    if (!m->well_formed)
        bsock_drain(sock);
    return 0;
}

void
bsock_msg_close(bsock_msg_t *m)
{
    zmq_msg_close(&m->rid);
    zmq_msg_close(&m->body);
}
