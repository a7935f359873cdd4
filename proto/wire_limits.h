/* limits: every limit of the refnet wire protocol, with the reason for its number.
 *
 * Both daemons check every received message against these before using it (validate.h), and
 * set WIRE_MAX_FRAME as ZMQ_MAXMSGSIZE on their sockets so an oversized frame is dropped by
 * libzmq before it is even buffered. Going over a limit means a Result with
 * STATUS_BAD_REQUEST or STATUS_TOO_LARGE naming the field, a log line and a counter. */
#ifndef REFNET_LIMITS_H
#define REFNET_LIMITS_H

/* Largest Envelope on the wire. A handoff's person packet is at most 16 KiB (below) and all its
 * metadata fits in well under 16 KiB more; a directory DirUpdate is under 8 KiB. 64 KiB leaves
 * room for growth while keeping the broker's worst-case buffered bytes per peer small. */
#define WIRE_MAX_FRAME (64 * 1024)

/* Agency and service identifiers: UUIDs (36) and readable slugs fit; keys in LMDB stay short. */
#define WIRE_MAX_IDENT 64
/* Display names of agencies and services, and a person's name: long enough for real names in
 * any script (200 bytes is 50+ characters of 4-byte UTF-8). */
#define WIRE_MAX_NAME 200
/* Service description: a paragraph or two. */
#define WIRE_MAX_DESCRIPTION 2000
/* A reason given with rejected / on-hold / failed / cancelled: one or two sentences. */
#define WIRE_MAX_REASON 500
/* Contact details: phone, e-mail and a line of instructions. */
#define WIRE_MAX_CONTACT 500
/* The person's own words and the peer supporter's notes: a page of text. */
#define WIRE_MAX_LONG_TEXT 4000
/* Needs summary: half a page. */
#define WIRE_MAX_NEEDS 2000
/* Capacity unit ("bed", "appointment"). */
#define WIRE_MAX_UNIT 32
/* ISO 639 language code, with room for a region subtag ("pt-BR"). */
#define WIRE_MAX_LANGUAGE 8
#define WIRE_MIN_LANGUAGE 2
/* Free-text software version in Hello. */
#define WIRE_MAX_SOFTWARE 64
/* Detail sentence in a Result. */
#define WIRE_MAX_DETAIL 300
/* Taxonomy terms per service: HSDS services carry a handful; 16 bounds index fan-out. */
#define WIRE_MAX_TAXONOMY 16
/* Languages per service. */
#define WIRE_MAX_LANGUAGES 16
/* Opening periods per service: a different period for each day of the week, twice over
 * (split shifts), still fits; bounds the work of an "open now" check. */
#define WIRE_MAX_SCHEDULES 16
/* Ages in years for eligibility (minimum_age, maximum_age): above any human age. */
#define WIRE_MAX_AGE 150
/* Minutes in a day: Schedule.opens_at < this, Schedule.closes_at <= this. */
#define WIRE_DAY_MINUTES 1440
/* Encoded PersonPacket: the sum of its field limits above, rounded up. */
#define WIRE_MAX_PERSON_PACKET (16 * 1024)
/* A sealed PersonPacket: the clear limit plus the nonce and authenticator (base/seal.h). */
#define WIRE_MAX_SEALED_PACKET (WIRE_MAX_PERSON_PACKET + 40)
/* Box and signing public keys (libsodium X25519 / Ed25519) and Ed25519 signatures. */
#define WIRE_SEAL_KEY_LEN 32
#define WIRE_SEAL_SIG_LEN 64
/* Message ids per Ack: lets a node acknowledge a whole delivered batch in one frame. */
#define WIRE_MAX_ACK_IDS 256
/* Envelopes in one Batch frame (the frame itself stays within WIRE_MAX_FRAME). */
#define WIRE_MAX_BATCH 256
/* Capacity numbers: no single service has a million places; bounds arithmetic. */
#define WIRE_MAX_CAPACITY 1000000
/* Time to live a sender may ask for: 30 days. Longer than any useful warm handoff. */
#define WIRE_MAX_TTL_MS (30ULL * 24 * 3600 * 1000)
/* Times must fall between 2000-01-01 and 2100-01-01: anything else is a broken clock. */
#define WIRE_MIN_TIME_MS 946684800000ULL
#define WIRE_MAX_TIME_MS 4102444800000ULL
/* Categories in one handoff: each category once. */
#define WIRE_MAX_CATEGORIES 5
/* Handoffs named by one consent revocation: one consent covers a person's handoffs to one
 * recipient, a handful in practice; 256 keeps the message far below WIRE_MAX_FRAME. */
#define WIRE_MAX_REVOKED_HANDOFFS 256
/* The 42 CFR Part 2 redisclosure notice that travels with substance-use data: the regulation's
 * text is about 600 bytes. */
#define WIRE_MAX_NOTICE 1000
/* A sealed StepNote: an encoded reason (its limit plus a few bytes of framing) plus the nonce
 * and authenticator. */
#define WIRE_MAX_SEALED_REASON (WIRE_MAX_REASON + 8 + 40)
/* Agencies and flow rows in one admin reply. */
#define WIRE_MAX_ADMIN_ROWS 10000
/* Services in one DirSnapshotChunk. The broker also stops adding services before the frame
 * would pass WIRE_MAX_FRAME; 512 typical services (about 120 bytes each) fill a frame well,
 * so a 100,000-service snapshot is a few hundred frames rather than 100,000. */
#define WIRE_MAX_SNAPSHOT_UPDATES 512
/* A directory digest (DirDigest.digest): BLAKE2b-256 sums, proto/dirdigest.h. */
#define WIRE_DIGEST_LEN 32

#endif
