// abi.h: every number that crosses from the addon to lib/ (enums, flags and
// the slots of the stats arrays), as one table. No Node header, no include:
// the core, the glue and scripts/gen-abi.js (which writes lib/backend/abi.ts
// from this file; test/abi.test.ts fails when the two differ) all read it.
//
// One entry a line: X(GROUP, NAME, VALUE). lib/ sees GROUP_NAME = VALUE.
#ifndef XBZRLE_ABI_H
#define XBZRLE_ABI_H

// clang-format off
#define XBZRLE_ABI_TABLE(X) \
  /* Why a delta was rejected: decodeInto returns -(reason + 8 * offset). */ \
  X(REJECT, TRUNCATED, 1)          /* fewer than 2 bytes left where a run pair starts */ \
  X(REJECT, ULEB_TOO_LONG, 2)      /* a length needs a third ULEB128 byte */ \
  X(REJECT, EMPTY_ZERO_RUN, 3)     /* a zero run of length 0 after the first pair */ \
  X(REJECT, EMPTY_DATA_RUN, 4)     /* a changed run of length 0 */ \
  X(REJECT, PAST_PAGE, 5)          /* a run goes past the end of the page */ \
  X(REJECT, PAST_INPUT, 6)         /* a changed run's bytes go past the end of the delta */ \
  X(REJECT, OVERLAP, 7)            /* the delta lies in the page's own memory */ \
  /* What cacheInsert did. */ \
  X(INSERT, STORED, 1) \
  X(INSERT, YOUNG, 0)              /* refused: QEMU's lifetime rule */ \
  X(INSERT, BUDGET, -1)            /* refused: the budget cannot fund a page */ \
  X(INSERT, MEMORY, -2)            /* refused: the allocator failed */ \
  X(INSERT, CLOSED, -3)            /* the cache is closed */ \
  /* Sender flags (senderSendPage, senderSendPages). */ \
  X(FLAG, LAST_STAGE, 1) \
  X(FLAG, DETECT_ZERO, 2) \
  X(FLAG, CONTINUED, 4)            /* the last record named this block already */ \
  X(FLAG, MEMORY, 8)               /* pages is a memory image indexed by address */ \
  /* What the sender made of a page (the kinds table; senderSendPage's low 2 bits). */ \
  X(KIND, SKIP, 0) \
  X(KIND, RAW, 1) \
  X(KIND, XBZRLE, 2) \
  X(KIND, ZERO, 3) \
  /* RAM record header flags, ORed into the low bits of the be64 offset word. */ \
  X(RECORD, ZERO, 0x02) \
  X(RECORD, MEM_SIZE, 0x04) \
  X(RECORD, PAGE, 0x08) \
  X(RECORD, EOS, 0x10) \
  X(RECORD, CONTINUE, 0x20) \
  X(RECORD, XBZRLE, 0x40) \
  X(RECORD, FLAG_MASK, 0x3ff)      /* offsets are multiples of 1 KiB */ \
  X(RECORD, ENCODING_XBZRLE, 0x01) /* the XBZRLE body's encoding byte */ \
  /* cacheStats(handle, Float64Array[CACHE_STATS_LENGTH]) slots. */ \
  X(CACHE_STAT, SIZE, 0) \
  X(CACHE_STAT, PAGE_SIZE, 1) \
  X(CACHE_STAT, SLOTS, 2) \
  X(CACHE_STAT, WAYS, 3) \
  X(CACHE_STAT, PAGES, 4)          /* pages held */ \
  X(CACHE_STAT, PAGE_BYTES, 5)     /* page memory allocated */ \
  X(CACHE_STAT, METADATA_BYTES, 6) /* CACHE_METADATA below */ \
  X(CACHE_STAT, LOOKUPS, 7) \
  X(CACHE_STAT, HITS, 8) \
  X(CACHE_STAT, INSERTS, 9) \
  X(CACHE_STAT, REFUSED_YOUNG, 10) \
  X(CACHE_STAT, REFUSED_BUDGET, 11) \
  X(CACHE_STAT, REFUSED_MEMORY, 12) \
  X(CACHE_STAT, EVICTIONS, 13) \
  X(CACHE_STAT, CLOSED, 14)        /* 1 closed, 0 open */ \
  X(CACHE_STATS, LENGTH, 15) \
  /* senderStats(handle, Float64Array[SENDER_STATS_LENGTH]) slots. */ \
  X(SENDER_STAT, CACHE_SIZE, 0) \
  X(SENDER_STAT, BYTES, 1) \
  X(SENDER_STAT, PAGES, 2) \
  X(SENDER_STAT, CACHE_MISS, 3) \
  X(SENDER_STAT, CACHE_MISS_RATE, 4) \
  X(SENDER_STAT, ENCODING_RATE, 5) \
  X(SENDER_STAT, OVERFLOW, 6) \
  X(SENDER_STAT, GENERATION, 7) \
  X(SENDER_STAT, RAW, 8) \
  X(SENDER_STAT, RECORDS, 9) \
  X(SENDER_STAT, SKIPPED, 10) \
  X(SENDER_STAT, ZERO, 11) \
  X(SENDER_STATS, LENGTH, 12) \
  /* budgetInfo(handle, Float64Array[BUDGET_INFO_LENGTH]) slots. */ \
  X(BUDGET_INFO, SIZE, 0) \
  X(BUDGET_INFO, USED, 1) \
  X(BUDGET_INFO, LENGTH, 2) \
  /* A cache's metadata bytes (CACHE_STAT_METADATA_BYTES), the same figure in \
     the addon and the twin: SLOT_BYTES * slots + CHUNK_ENTRY_BYTES * chunks, \
     chunks = ceil(slots / chunkPages), chunkPages = the largest power of two \
     <= CHUNK_BYTES / pageSize; 0 once closed. */ \
  X(CACHE_METADATA, SLOT_BYTES, 16) \
  X(CACHE_METADATA, CHUNK_ENTRY_BYTES, 12) \
  X(CACHE_METADATA, CHUNK_BYTES, 262144)
// clang-format on

namespace xbzrle {
namespace abi {
#define XBZRLE_ABI_ENUM(group, name, value) group##_##name = value,
enum : long { XBZRLE_ABI_TABLE(XBZRLE_ABI_ENUM) };
#undef XBZRLE_ABI_ENUM
}  // namespace abi
}  // namespace xbzrle

#endif
