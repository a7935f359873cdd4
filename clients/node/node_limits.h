/* node_limits: every limit of refnet-node, with the reason for its number.
 *
 * The wire limits (frame size, string lengths, counts) are in proto/wire_limits.h; these are the
 * node's own: its LMDB map, its outbox, its local API and its timers. Going over a limit is an
 * error with a counter and a log line (or an API error for the caller), never a crash. */
#ifndef REFNET_NODE_LIMITS_H
#define REFNET_NODE_LIMITS_H

#include "wire_limits.h"

/* LMDB map size. A node holds the directory replica (a few KiB per service, so 10,000
 * services are ~50 MiB), its persons, consents and handoffs, and a bounded outbox. 256 MiB is
 * room for years of one agency's work; --map-size-mb raises it. A full map answers
 * "storage-full" and loses nothing already committed. */
#define NODE_MAP_SIZE_DEFAULT_MB 256
#define NODE_MAP_SIZE_MAX_MB     (64 * 1024)

/* Messages waiting in the outbox for the broker's answer. An hour of a busy agency's traffic
 * while the hub is down is far below this; beyond it new work is refused with "queue-full"
 * rather than letting the outbox grow without bound. */
#define NODE_OUTBOX_MAX 10000
/* Outbox items sent and not yet answered. Enough to keep the link busy (the broker answers a
 * whole group commit at once) while bounding what is resent after a reconnect. */
#define NODE_OUTBOX_WINDOW 64
/* Outbox items waiting, out of the window, for a recipient whose mailbox was full: those the
 * broker answered "queue full" and the later ones for the same recipient, which are not sent
 * before them (order per pair). Parking them keeps the window for other recipients. With the
 * window, at most PAIRHOLD_MAX_IDS (256) ids of one pair can reach the broker's hold list,
 * which keeps the order while the mailbox is full. Past it the pump waits. */
#define NODE_OUTBOX_PARKED (256 - NODE_OUTBOX_WINDOW)
/* An item the broker has not answered is sent again after this long: the broker answers a
 * duplicate mail STORED without queueing it twice, so resending is safe. */
#define NODE_RESEND_MS 30000
/* An item the broker answered "queue full" or "storage full" is retried after this long. */
#define NODE_RETRY_MS 2000

/* Envelopes read from the broker per loop iteration, all applied in one LMDB write
 * transaction and one synced commit (group commit). Large enough to amortise the fsync, small
 * enough that the local API is served between batches (a commit of 1024 small deliveries takes
 * a few ms) and that acks start back while the broker still has deliveries in flight. The
 * items of a Batch frame count one each (a batch can run on into the next transaction); the
 * acks that follow the commit go in Acks of at most WIRE_MAX_ACK_IDS ids. Measured with
 * tests/bench/delivery.sh: 1024 against 256 took 8->1 from about 52,000 to 65,000
 * messages/s; 4096 (with the broker's group commits of 4096) gave no more in 8->8 and less in
 * 8->1 (three alternating pairs: 68,695-73,419 against 72,966-75,440). */
#define NODE_BATCH 1024
/* Local API requests served per loop iteration before looking at the broker again. */
#define NODE_API_BATCH 64

/* A local API request larger than this is answered "invalid" (API.md). */
#define NODE_API_MAX_REQUEST (256 * 1024)
/* ZMQ_MAXMSGSIZE of the API socket: above it libzmq drops the connection before buffering
 * the frame, so an absurd request cannot exhaust memory. Between the two limits the client
 * gets a clear "invalid". */
#define NODE_API_MAX_FRAME (1024 * 1024)
/* Frames before the body of an API request (routing id, empty delimiter). */
#define NODE_API_MAX_ENVELOPE_FRAMES 4
/* Directory requests (publish, availability, withdraw) waiting for the broker at once; more
 * are answered "queued" at once, which is still correct (the change is in the outbox). */
#define NODE_PENDING_MAX 256
/* How long a directory request waits for the broker's answer before it is answered
 * "queued": API.md promises 5 s, and librefnet waits 10 s. */
#define NODE_DIR_WAIT_MS 5000

/* search: results per answer (API.md). */
#define NODE_SEARCH_LIMIT_DEFAULT 50
#define NODE_SEARCH_LIMIT_MAX     1000
/* search: highest page number asked for; a million services at one per page. */
#define NODE_SEARCH_PAGE_MAX 1000000
/* search: availability numbers older than this are reported stale (the default, a
 * day); `refnet-node run --stale-after-s` sets another, up to 30 days. */
#define NODE_STALE_AFTER_DEFAULT_S (24 * 3600)
#define NODE_STALE_AFTER_MAX_S     (30 * 24 * 3600)
/* A search radius beyond half the Earth's circumference means "anywhere". */
#define NODE_SEARCH_RADIUS_MAX_KM 20038.0
/* handoff.list, person.list and consent.list answer at most this many items (newest first
 * for handoffs), so one answer always fits the client's frame limit. */
#define NODE_LIST_MAX 1000

/* Time to live of handoff mail when the request names none: a week covers a long weekend of
 * the receiving agency being offline, with room to spare. */
#define NODE_TTL_DEFAULT_MS (7ULL * 24 * 3600 * 1000)
/* Delivered message ids are remembered this long to drop duplicates. The broker may redeliver
 * a message until its TTL runs out (at most WIRE_MAX_TTL_MS), so a day more than that. */
#define NODE_SEEN_RETENTION_MS (WIRE_MAX_TTL_MS + 24ULL * 3600 * 1000)
/* How often old seen ids are pruned, and how many at most per pass (bounded work per loop). */
#define NODE_SEEN_PRUNE_INTERVAL_MS (3600ULL * 1000)
#define NODE_SEEN_PRUNE_MAX         10000
/* Consents whose expiry is recorded in the audit log per pass of the same timer: expiry dates
 * end a day, so an hour's lag is well inside the day; the bound keeps one pass short. */
#define NODE_CONSENT_EXPIRY_MAX 1000

/* Heartbeat: the node Pings every interval; the connection is dropped (and remade, with a
 * new Hello) after NODE_LIVENESS intervals without any ZMTP traffic (a peer is offline after 3
 * missed). Broker silence with the connection up is only logged (link.h). */
#define NODE_HEARTBEAT_DEFAULT_MS 1000
#define NODE_HEARTBEAT_MIN_MS     100
#define NODE_HEARTBEAT_MAX_MS     60000
#define NODE_LIVENESS             3
/* ZeroMQ reconnect backoff: quick first retry, exponential up to 5 s (BRIEF.md section 3). */
#define NODE_RECONNECT_IVL_MS     100
#define NODE_RECONNECT_IVL_MAX_MS 5000
/* After the broker refuses the CURVE handshake (not enrolled, or revoked), the link rebuilds
 * its socket after 1 s, doubling up to 30 s, plus up to a quarter of jitter: an agency enrolled
 * later connects within seconds, and a refused one costs the broker one handshake per 30 s. */
#define NODE_REBUILD_MIN_MS 1000
#define NODE_REBUILD_MAX_MS 30000
/* Unsent messages are dropped at close after this long: the outbox is durable, so nothing is
 * lost, and shutdown stays prompt. */
#define NODE_LINGER_MS 200
/* While no Welcome has come, Hello is tried this often: a refused send (no connection yet)
 * costs nothing, and the node is back in service within a quarter second of the broker. */
#define NODE_HELLO_RETRY_MS 250
/* A directory catch-up (DirSync) not finished within this long is asked for again. */
#define NODE_SYNC_TIMEOUT_MS 30000

/* Events kept in one handoff's history. A handoff passes through at most six statuses; the
 * rest are milestones, and a year of weekly follow-ups is about fifty. Beyond this a local
 * step is refused ("invalid") and a received one is applied without its history line. */
#define NODE_HANDOFF_MAX_EVENTS 256

/* Longest broker endpoint ("tcp://host:port" or "ipc://path"). */
#define NODE_MAX_ENDPOINT 256
/* The only consent purpose handoffs use today. */
#define NODE_PURPOSE_REFERRAL "referral"

#endif
