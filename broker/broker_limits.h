/* broker_limits: every limit of refnet-broker, with the reason for its number.
 *
 * The wire limits (frame size, string lengths, counts) live in proto/wire_limits.h and apply to both
 * daemons; these are the broker's own: storage, queues, windows, batches and timers. Going over
 * one of them means a refusal with a Result naming it, a log line and a counter, never a crash
 * and never a silent drop. Header only; no state. */
#ifndef REFNET_BROKER_LIMITS_H
#define REFNET_BROKER_LIMITS_H

/* LMDB map size. The map is virtual address space, not disk: 1 GiB holds about a million
 * queued handoff messages of typical size, far beyond a regional network's daily volume, and
 * is cheap to reserve on 64-bit hosts. `run --map-size-mb` raises it; a full map answers
 * STATUS_STORAGE_FULL and keeps serving reads and acks. */
#define BROKER_MAP_SIZE_MB_DEFAULT 1024
#define BROKER_MAP_SIZE_MB_MIN     1
#define BROKER_MAP_SIZE_MB_MAX     (1024 * 1024)
/* A full map refuses every write until space is made: "storage full" is logged at most once
 * per this many milliseconds for refused requests (a failed group commit always logs). */
#define BROKER_FULL_LOG_MS 1000

/* Messages waiting in one recipient's mailbox. An agency that is away for a week receives a
 * few hundred handoffs at most; 100000 means something is wrong (a stuck node, a flood), and
 * refusing with STATUS_QUEUE_FULL keeps one mailbox from filling the map for everyone.
 * Receipts are exempt: refusing them would lose a sender's proof of delivery. */
#define BROKER_MAX_QUEUE 100000
/* How long a (sender, recipient) pair stays held in order after one of its messages was
 * refused for a full mailbox, when none of the refused messages comes back (pairhold.h).
 * Nodes retry every couple of seconds; a minute of silence means the sender went away, and
 * after a reconnect it resends in order anyway. */
#define BROKER_HOLD_IDLE_MS 60000

/* Highest `run --max-queue`. Ten million small messages need a map of about 10 GiB
 * (--map-size-mb); past that one mailbox would be the whole store, and the map limit answers
 * "storage full" anyway. */
#define BROKER_MAX_QUEUE_CEILING 10000000

/* Lowest `run --max-frame`: below a kilobyte even a directory record with a description no
 * longer fits. The highest is WIRE_MAX_FRAME (proto/wire_limits.h), which libzmq enforces. */
#define BROKER_MAX_FRAME_MIN 1024

/* Deliveries sent to one agency and not yet acknowledged. Bounds what the broker pushes into
 * a slow node's pipe (and libzmq's buffers) while keeping the pipe full enough for throughput:
 * one busy recipient gets at most this many per round trip (delivery, its commit, its ack, the
 * broker's commit), so 1000 capped a single recipient near 50,000 messages/s here. It stays
 * below BROKER_SNDHWM so a window never overflows the pipe on its own, even one envelope per
 * frame. */
#define BROKER_WINDOW 4000

/* Requests drained per loop iteration and applied in one LMDB write transaction (the group
 * commit). A synced commit costs about a millisecond plus a write per dirty page, shared by
 * everything in it; the loop drains only what is waiting, so one message alone is committed at
 * once. Under load it bounds a commit to the window of one agency (BROKER_WINDOW) and a bit:
 * measured with tests/bench/delivery.sh, 4096 against 512 took 8->8 from about 44,000 to
 * 55,000 messages/s (the broker's commits per second fell fourfold); 8192 gave no more. */
#define BROKER_BATCH 4096

/* Agencies a group commit's receipts may go to before its commit (broker_early_receipts); the
 * receipts of any more wait for the commit, as all did before. A group's Acks come from the
 * agencies it read, and receipts go to those agencies' senders. */
#define BROKER_EARLY_PEERS 64

/* Frames answered per loop iteration on the admin socket: admin requests scan whole databases,
 * so a burst of them must not starve the agencies. */
#define BROKER_ADMIN_BATCH 8

/* Time to live of a message when its sender gives none: a week covers an agency closed over a
 * long weekend plus time to notice. Senders may ask for up to WIRE_MAX_TTL_MS. */
#define BROKER_DEFAULT_TTL_MS (7ULL * 24 * 3600 * 1000)

/* How long a delivered message may stay unacknowledged before the broker sends it again even
 * without a reconnect: long enough for a node's own group commit under load, short enough
 * that a lost frame is noticed within a minute. */
#define BROKER_REDELIVER_MS 30000

/* How long the msg_id of a delivered or expired message is remembered, so that a sender that
 * resends it (its STORED answer was lost) is answered STORED again instead of re-queueing it.
 * A sender's outbox retries for at most the longest TTL. */
#define BROKER_DONE_RETENTION_MS (30ULL * 24 * 3600 * 1000)

/* Enrolled agencies. A regional network has tens to a few thousand; the whole table is kept in
 * memory and an admin NODES reply must stay within WIRE_MAX_ADMIN_ROWS. */
#define BROKER_MAX_AGENCIES 10000

/* Heartbeat the broker asks nodes to keep (Welcome.heartbeat_ms) and the bounds of
 * `run --heartbeat-ms`: under 50 ms is busy-looping, over a minute makes presence useless. */
#define BROKER_HEARTBEAT_MS_DEFAULT 1000
#define BROKER_HEARTBEAT_MS_MIN     50
#define BROKER_HEARTBEAT_MS_MAX     60000
/* A peer is offline after this many heartbeat intervals without a frame (BRIEF.md section 3). */
#define BROKER_OFFLINE_INTERVALS 3

/* How often the broker looks for enrolments made by `refnet-broker enroll` while it runs. Half
 * a second keeps the promise that an enrolment takes effect within one second. */
#define BROKER_ENROLL_CHECK_MS 500

/* Housekeeping period: TTL expiry, redelivery timeouts and presence. */
#define BROKER_TICK_MS 250

/* Poll timeout while some peer has work waiting (its pipe was full): retry soon, without
 * spinning. */
#define BROKER_RETRY_MS 10

/* Directory updates sent per peer per loop iteration during a catch-up (DirSync), and expired
 * messages moved per tick: both bound the time one step may take, so others keep being served. */
#define BROKER_SYNC_STEP   256
#define BROKER_EXPIRE_STEP 1000
/* Snapshot chunks (each up to WIRE_MAX_SNAPSHOT_UPDATES services, under WIRE_MAX_FRAME) sent
 * per peer per loop iteration: 8 frames of at most 64 KiB keep one step around a millisecond
 * while a 100,000-service snapshot still takes only a few dozen iterations. */
#define BROKER_SNAPSHOT_STEP 8
/* Services per snapshot chunk: the protocol's most (WIRE_MAX_SNAPSHOT_UPDATES). A node applies
 * the chunks it has received in one transaction; measured on a 100,000-service join, chunks of
 * 64 made ten times the disk writes (every transaction rewrites the index pages it touches)
 * and took longer than chunks of 512. */
#define BROKER_SNAPSHOT_CHUNK 512

/* How long a withdrawn service's tombstone is kept before compaction forgets it
 * (`run --tombstone-retention-s`). A node that was offline for longer than this gets a
 * snapshot instead of the log when it returns. 30 days covers a node switched off over a
 * holiday or a long outage; beyond that a snapshot is as cheap as the log anyway. */
#define BROKER_TOMBSTONE_RETENTION_S_DEFAULT (30ULL * 24 * 3600)
#define BROKER_TOMBSTONE_RETENTION_S_MAX     (10ULL * 365 * 24 * 3600)
/* Log entries one compaction run may examine; a run happens every tick (BROKER_TICK_MS) in
 * one short write transaction, and on an idle directory it reads one entry and writes nothing. */
#define BROKER_COMPACT_STEP 10000

/* Outgoing queue per peer in libzmq (messages). Must exceed BROKER_WINDOW plus a catch-up step
 * plus replies, so that EAGAIN means a really slow peer. */
#define BROKER_SNDHWM 8192
/* How long a closing socket may keep trying to send: shutdown must not hang on a dead peer. */
#define BROKER_LINGER_MS 100

/* libzmq routing ids are at most 255 bytes. */
#define BROKER_MAX_RID 255

/* Longest bind endpoint accepted from the command line or the store. */
#define BROKER_MAX_ENDPOINT 256
#define BROKER_DEFAULT_BIND "tcp://127.0.0.1:7400"

/* Bad frames from one agency that are logged one by one; after that only every 1000th is
 * logged, so a misbehaving node cannot flood the log. Every one is counted. */
#define BROKER_BAD_LOG_FIRST 20
#define BROKER_BAD_LOG_EVERY 1000

/* Bad frames one agency may send within SHUN_WINDOW_MS before the broker says Bye and stops
 * hearing it (shun.h). An honest node sends none: its encoder and the broker's decoder share
 * one contract, and a refused request is answered with a Result, not counted as a bad frame
 * (only an oversized frame is both). 100 in a minute is a node that is broken or hostile,
 * while a single corrupted frame or a short burst is still answered one by one. A node that
 * speaks another protocol version sends a Hello a second and goes over it within two minutes;
 * the broker cannot serve it anyway, and the Bye tells its operator why in its log. */
#define SHUN_BAD_FRAMES 100
/* The window over which bad frames are counted: a minute, the same horizon as the other
 * per-agency rates an operator reads in the log. */
#define SHUN_WINDOW_MS 60000
/* How long a shunned agency is not heard, and the retry_after_ms of its Bye. Long enough that a
 * flood costs the broker almost nothing (one table lookup per frame), short enough that a node
 * fixed by its operator is back within minutes without anyone touching the broker. */
#define SHUN_COOLDOWN_MS 120000

#endif
