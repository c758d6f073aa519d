/* test-msrp-reassembly.c: Check suite for msrp/msrp-reassembly.c
 * (RFC 4975 sections 5.1, 7.1.1, 7.3.1).
 *
 * Scripted cases: each case is a list of steps (begin a chunk in a slot, feed
 * it data, end it with a flag, abandon, check progress and memory), run three
 * times: every data piece whole, byte by byte, and split in two.  Every piece
 * of body sits against a guard page.  A randomized test then sends random
 * messages as random chunks, cut and overlapped, in random order, several
 * messages and chunks open at once, some aborted with '#', and checks every
 * outcome against a model and every completed message byte for byte. */
#include <check.h>
#include <glib.h>
#include <string.h>

#include "guard.h"
#include "msrp-reassembly.h"

#define MIB (1024 * 1024)

/* For hot loops: a passing ck_assert writes a record to Check's pipe, so
 * only call into Check on failure. */
#define REQUIRE(cond, ...)                                                    \
  do                                                                          \
    {                                                                         \
      if (G_UNLIKELY (!(cond)))                                               \
        ck_abort_msg (__VA_ARGS__);                                           \
    }                                                                         \
  while (0)

/* One guard mapping reused for many pieces: each piece is copied so that
 * its last byte sits right before the PROT_NONE page, as guard_buf_init()
 * does, without an mmap per piece. */
#define PIECE_GUARD_LEN 4096

static GuardBuf piece_guard;

static const guint8 *
guarded (const void *src, gsize len)
{
  guint8 *dst;

  if (piece_guard.map == NULL)
    {
      static const guint8 zeros[PIECE_GUARD_LEN];

      guard_buf_init (&piece_guard, zeros, PIECE_GUARD_LEN);
    }
  REQUIRE (len <= PIECE_GUARD_LEN,
           "piece of %" G_GSIZE_FORMAT " bytes too long", len);
  dst = piece_guard.data + PIECE_GUARD_LEN - len;
  if (len > 0)
    memcpy (dst, src, len);
  return dst;
}

/* ---- scripted cases ---------------------------------------------------- */

typedef enum
{
  OP_STOP = 0,
  OP_BEGIN,        /* slot, id, range (NULL: no Byte-Range), ct; ok or err */
  OP_DATA,         /* slot, data; ok or err */
  OP_END,          /* slot, flag in data[0]; result, body/ct or err;
                    * INTERRUPTED: progress n received of total */
  OP_FREE,         /* slot: free without end-line */
  OP_ABANDON,      /* id; expect found (result), n received */
  OP_PROGRESS,     /* id; n received, total (G_MAXUINT64: unknown) */
  OP_PENDING,      /* n pending messages */
  OP_MARK,         /* remember msrp_reassembler_get_buffered() */
  OP_SAME_AS_MARK, /* buffered equals the mark */
  OP_BUFFERED_MAX, /* buffered <= n */
} Op;

typedef struct
{
  Op op;
  int slot;
  const char *id;
  const char *range;
  const char *ct;
  const char *data;
  int result;       /* END: MsrpReassemblyResult; ABANDON: found */
  int err;          /* -1: success expected; else MsrpReassemblyError */
  const char *text; /* END COMPLETE: body; error: message substring */
  guint64 n;
  guint64 total;
} Step;

#define OK (-1)
#define UNKNOWN G_MAXUINT64

#define BEGIN(s, i, r, c)                                                     \
  {                                                                           \
    .op = OP_BEGIN, .slot = s, .id = i, .range = r, .ct = c, .err = OK        \
  }
#define BEGIN_ERR(s, i, r, e, t)                                              \
  {                                                                           \
    .op = OP_BEGIN, .slot = s, .id = i, .range = r, .err = e, .text = t       \
  }
#define DATA(s, d)                                                            \
  {                                                                           \
    .op = OP_DATA, .slot = s, .data = d, .err = OK                            \
  }
#define DATA_ERR(s, d, e, t)                                                  \
  {                                                                           \
    .op = OP_DATA, .slot = s, .data = d, .err = e, .text = t                  \
  }
#define END(s, f, res)                                                        \
  {                                                                           \
    .op = OP_END, .slot = s, .data = f, .result = res, .err = OK              \
  }
#define END_DONE(s, f, body, c)                                               \
  {                                                                           \
    .op = OP_END, .slot = s, .data = f, .result = MSRP_REASSEMBLY_COMPLETE,   \
    .err = OK, .text = body, .ct = c                                          \
  }
/* '#': aborted after @recv bytes of @tot (UNKNOWN). */
#define END_ABORT(s, recv, tot)                                               \
  {                                                                           \
    .op = OP_END, .slot = s, .data = "#",                                     \
    .result = MSRP_REASSEMBLY_INTERRUPTED, .err = OK, .n = recv, .total = tot \
  }
#define END_ERR(s, f, e, t)                                                   \
  {                                                                           \
    .op = OP_END, .slot = s, .data = f, .result = MSRP_REASSEMBLY_FAILED,     \
    .err = e, .text = t                                                       \
  }
#define FREE(s)                                                               \
  {                                                                           \
    .op = OP_FREE, .slot = s                                                  \
  }
#define ABANDON(i, found, recv)                                               \
  {                                                                           \
    .op = OP_ABANDON, .id = i, .result = found, .n = recv                     \
  }
#define PROGRESS(i, recv, tot)                                                \
  {                                                                           \
    .op = OP_PROGRESS, .id = i, .n = recv, .total = tot                       \
  }
#define PENDING(k)                                                            \
  {                                                                           \
    .op = OP_PENDING, .n = k                                                  \
  }
#define MARK                                                                  \
  {                                                                           \
    .op = OP_MARK                                                             \
  }
#define SAME_AS_MARK                                                          \
  {                                                                           \
    .op = OP_SAME_AS_MARK                                                     \
  }
#define BUFFERED_MAX(k)                                                       \
  {                                                                           \
    .op = OP_BUFFERED_MAX, .n = k                                             \
  }
#define ALL_FREED PENDING (0), BUFFERED_MAX (0)

#define N_SLOTS 4
#define MAX_STEPS 26

typedef struct
{
  const char *name;
  gsize max_buffered;
  guint64 max_message_size; /* 0: none */
  guint max_messages;       /* 0: default */
  guint max_ranges;         /* 0: default */
  gboolean whole_only;      /* data errors whose partial effect the
                             * later steps check */
  Step steps[MAX_STEPS];
} Case;

#define MC MSRP_REASSEMBLY_MESSAGE_COST
#define PC MSRP_REASSEMBLY_PIECE_COST
#define E(x) MSRP_REASSEMBLY_ERROR_##x
#define R(x) MSRP_REASSEMBLY_##x

#define D20 "0123456789abcdefghij"
#define D80 D20 D20 D20 D20

static const Case cases[] = {
  { "whole message without Byte-Range",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "m1", NULL, "text/plain"), DATA (0, "hello"),
      END_DONE (0, "$", "hello", "text/plain"), ALL_FREED } },
  /* RFC 4975 section 5.1, figure 3. */
  { "two chunks in order (figure 3)",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "4564dpWd", "1-*/8", "text/plain"), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), PROGRESS ("4564dpWd", 4, 8), PENDING (1),
      BEGIN (0, "4564dpWd", "5-8/8", "text/plain"), DATA (0, "EFGH"),
      END_DONE (0, "$", "abcdEFGH", "text/plain"), ALL_FREED } },
  { "two chunks out of order",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "4564dpWd", "5-8/8", "text/plain"), DATA (0, "EFGH"),
      END (0, "$", R (PENDING)), PROGRESS ("4564dpWd", 4, 8),
      BEGIN (0, "4564dpWd", "1-*/8", "text/plain"), DATA (0, "abcd"),
      END_DONE (0, "+", "abcdEFGH", "text/plain"), ALL_FREED } },
  { "three chunks in reverse order",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "rev1", "7-9/9", NULL), DATA (0, "ghi"),
      END (0, "$", R (PENDING)), BEGIN (0, "rev1", "4-6/9", NULL),
      DATA (0, "def"), END (0, "+", R (PENDING)), PROGRESS ("rev1", 6, 9),
      BEGIN (0, "rev1", "1-3/9", NULL), DATA (0, "abc"),
      END_DONE (0, "+", "abcdefghi", NULL), ALL_FREED } },
  /* Section 7.3.1: the last chunk received takes precedence. */
  { "overlap: later chunk wins",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "ovl1", "1-6/10", NULL), DATA (0, "abcdef"),
      END (0, "+", R (PENDING)), BEGIN (0, "ovl1", "4-10/10", NULL),
      DATA (0, "XYZghij"), END_DONE (0, "$", "abcXYZghij", NULL),
      ALL_FREED } },
  { "overlap: later chunk wins, reversed",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "ovl2", "4-10/10", NULL), DATA (0, "XYZghij"),
      END (0, "$", R (PENDING)), PROGRESS ("ovl2", 7, 10),
      BEGIN (0, "ovl2", "1-6/10", NULL), DATA (0, "abcdef"),
      END_DONE (0, "+", "abcdefghij", NULL), ALL_FREED } },
  { "overlap across pieces and gaps",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "ovl3", "3-4/10", NULL), DATA (0, "cd"),
      END (0, "+", R (PENDING)), BEGIN (0, "ovl3", "7-8/10", NULL),
      DATA (0, "gh"), END (0, "+", R (PENDING)), PROGRESS ("ovl3", 4, 10),
      BEGIN (0, "ovl3", "1-10/10", NULL), DATA (0, "ABCDEFGHIJ"),
      END_DONE (0, "$", "ABCDEFGHIJ", NULL), ALL_FREED } },
  { "duplicate chunk counted once",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "dup1", "1-4/8", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), BEGIN (0, "dup1", "1-4/8", NULL),
      DATA (0, "abcd"), END (0, "+", R (PENDING)), PROGRESS ("dup1", 4, 8),
      BEGIN (0, "dup1", "5-8/8", NULL), DATA (0, "efgh"),
      END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  { "late duplicate after completion is discarded",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "dup2", "1-4/4", NULL), DATA (0, "abcd"),
      END_DONE (0, "$", "abcd", NULL), BEGIN (0, "dup2", "1-4/4", NULL),
      DATA (0, "wxyz"), END (0, "$", R (DUPLICATE)), ALL_FREED,
      BEGIN (0, "dup2", "3-4/*", NULL),
      DATA_ERR (0, "xyz", E (TOO_MANY_BYTES), NULL) } },
  /* Section 5.1 / 7.1.1: an interrupted chunk ends early with "+" and is
   * resumed at the first byte after the interruption. */
  { "interrupted with '+' then resumed",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "int1", "1-*/8", NULL), DATA (0, "abc"),
      END (0, "+", R (PENDING)), PROGRESS ("int1", 3, 8),
      BEGIN (0, "int1", "4-*/8", NULL), DATA (0, "defgh"),
      END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  { "'+' short of range-end keeps the message pending",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "int2", "1-8/8", NULL), DATA (0, "abc"),
      END (0, "+", R (PENDING)), PROGRESS ("int2", 3, 8), PENDING (1),
      BEGIN (0, "int2", "4-8/8", NULL), DATA (0, "de"),
      END (0, "+", R (PENDING)), PROGRESS ("int2", 5, 8),
      BEGIN (0, "int2", "6-8/8", NULL), DATA (0, "fgh"),
      END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  /* Section 7.1: '#' aborts the message; the sender "intends to send no
   * further chunks in that message". */
  { "'#' aborts: data freed, later chunks refused (GONE)",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt1", "1-*/*", "text/plain"), DATA (0, "abc"),
      END_ABORT (0, 3, UNKNOWN), ALL_FREED, ABANDON ("abt1", FALSE, 0),
      BEGIN_ERR (0, "abt1", "1-*/*", E (GONE),
                 "Message-ID 'abt1': the sender aborted the message ('#')"),
      BEGIN_ERR (0, "abt1", "4-8/8", E (GONE), "no longer accepted"),
      BEGIN_ERR (0, "abt1", NULL, E (GONE), NULL), ALL_FREED,
      /* Other messages are not affected. */
      BEGIN (0, "abt1b", NULL, NULL), DATA (0, "ok"),
      END_DONE (0, "$", "ok", NULL), ALL_FREED } },
  { "'#' after several chunks: N of M bytes",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt2", "1-*/10", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), BEGIN (0, "abt2", "8-10/10", NULL),
      DATA (0, "hij"), END (0, "$", R (PENDING)), PROGRESS ("abt2", 7, 10),
      /* Overlapping bytes are counted once. */
      BEGIN (0, "abt2", "3-*/10", NULL), DATA (0, "cdef"),
      END_ABORT (0, 9, 10), ALL_FREED,
      BEGIN_ERR (0, "abt2", "7-7/10", E (GONE), "aborted") } },
  { "'#' filling the last gap still aborts",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt3", "1-4/8", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), BEGIN (0, "abt3", "5-8/8", NULL),
      DATA (0, "efgh"), END_ABORT (0, 8, 8), ALL_FREED,
      BEGIN_ERR (0, "abt3", "5-8/8", E (GONE), "aborted") } },
  { "'#' while other chunks of the message are open",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt4", "1-*/*", NULL), DATA (0, "abc"),
      BEGIN (1, "abt4", "4-*/*", NULL), DATA (1, "de"),
      BEGIN (2, "abt4", "9-*/*", NULL), END_ABORT (1, 5, UNKNOWN), ALL_FREED,
      DATA_ERR (0, "f", E (GONE),
                "sender aborted the message ('#') while this chunk was open"),
      END_ERR (0, "$", E (GONE), "already failed"),
      END_ERR (2, "+", E (GONE), "while this chunk was open"), ALL_FREED } },
  { "'#' on empty chunks, total unknown, known and zero",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt5", "1-*/*", NULL), END_ABORT (0, 0, UNKNOWN),
      BEGIN (0, "abt6", "1-*/100", NULL), END_ABORT (0, 0, 100),
      BEGIN (0, "abt7", "1-0/0", NULL), END_ABORT (0, 0, 0), ALL_FREED,
      BEGIN_ERR (0, "abt5", "1-*/*", E (GONE), NULL),
      BEGIN_ERR (0, "abt6", "1-*/100", E (GONE), NULL),
      BEGIN_ERR (0, "abt7", "1-0/0", E (GONE), NULL) } },
  { "'#' after completion is a late duplicate",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "abt8", "1-3/3", NULL), DATA (0, "abc"),
      BEGIN (1, "abt8", "1-3/3", NULL), DATA (1, "abc"),
      END_DONE (0, "$", "abc", NULL), END (1, "#", R (DUPLICATE)),
      BEGIN (0, "abt8", "1-3/3", NULL), END (0, "#", R (DUPLICATE)),
      ALL_FREED } },
  { "'#' on a failed chunk aborts nothing",
    MIB,
    0,
    0,
    0,
    TRUE,
    { BEGIN (0, "abt9", "1-4/8", NULL), DATA (0, "ab"),
      END (0, "+", R (PENDING)), BEGIN (0, "abt9", "3-4/8", NULL),
      DATA_ERR (0, "cde", E (TOO_MANY_BYTES), "go past range-end 4"),
      END_ERR (0, "#", E (TOO_MANY_BYTES), "already failed"),
      PROGRESS ("abt9", 2, 8), PENDING (1), BEGIN (0, "abt9", "3-8/8", NULL),
      DATA (0, "cdefgh"), END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  /* Section 7.3.1: the actual length comes from the body. */
  { "body shorter than range-end",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "sh1", "1-8/8", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), PROGRESS ("sh1", 4, 8),
      BEGIN (0, "sh1", "5-8/8", NULL), DATA (0, "efgh"),
      END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  { "unknown total resolved by '$'",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "unk1", "1-*/*", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), PROGRESS ("unk1", 4, UNKNOWN),
      BEGIN (0, "unk1", "5-*/*", NULL), DATA (0, "efgh"),
      END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  { "'$' chunk first defines the total",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "unk2", "5-*/*", NULL), DATA (0, "efgh"),
      END (0, "$", R (PENDING)), PROGRESS ("unk2", 4, 8),
      BEGIN (0, "unk2", "1-*/*", NULL), DATA (0, "abcd"),
      END_DONE (0, "+", "abcdefgh", NULL), ALL_FREED } },
  { "short '$' body sets the total",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "unk3", "1-10/*", NULL), DATA (0, "abcdef"),
      END_DONE (0, "$", "abcdef", NULL), ALL_FREED } },
  { "messages and chunks interleaved",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "msgA", "1-*/6", "text/plain"),
      BEGIN (1, "msgB", "1-*/*", "text/html"), DATA (0, "abc"), DATA (1, "xy"),
      BEGIN (2, "msgA", "4-6/6", "text/plain"), DATA (2, "def"), PENDING (2),
      END_DONE (2, "$", "abcdef", "text/plain"), PENDING (1), DATA (0, ""),
      END (0, "+", R (DUPLICATE)), DATA (1, "z"),
      END_DONE (1, "$", "xyz", "text/html"), ALL_FREED } },
  /* A holds MC + PC + 20 (its buffer is capped by the total, 20).  B's MC
   * leaves PC + 10 of room: its piece fits, 80 bytes do not. */
  { "ceiling exceeded: 413, memory freed, id refused",
    2 * MC + 2 * PC + 30,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "ceilA", "1-*/20", NULL), DATA (0, "0123456789"),
      END (0, "+", R (PENDING)), MARK, BEGIN (0, "ceilB", "1-*/*", NULL),
      DATA_ERR (0, D80, E (TOO_LARGE), "reassembly ceiling"), FREE (0),
      SAME_AS_MARK, PENDING (1),
      BEGIN_ERR (0, "ceilB", "81-*/*", E (TOO_LARGE), "refused earlier"),
      BEGIN (0, "ceilA", "11-20/20", NULL), DATA (0, "abcdefghij"),
      END_DONE (0, "$", "0123456789abcdefghij", NULL), ALL_FREED } },
  { "exactly at the ceiling fits",
    MC + PC + 10,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "fit1", "1-*/*", NULL), DATA (0, "01234"), DATA (0, "56789"),
      BUFFERED_MAX (MC + PC + 10), END_DONE (0, "$", "0123456789", NULL),
      ALL_FREED } },
  { "one byte over the ceiling",
    MC + PC + 10,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "fit2", "1-*/*", NULL),
      DATA_ERR (0, "0123456789a", E (TOO_LARGE), "ceiling"),
      END_ERR (0, "$", E (TOO_LARGE), NULL), ALL_FREED } },
  { "announced total over the ceiling",
    1000,
    0,
    0,
    0,
    FALSE,
    { BEGIN_ERR (0, "ann1", "1-*/1001", E (TOO_LARGE),
                 "total 1001 exceeds the reassembly ceiling of 1000"),
      ALL_FREED } },
  /* a=max-size (section 8.6) as the per-message maximum. */
  { "per-message maximum",
    MIB,
    10,
    0,
    0,
    FALSE,
    { BEGIN_ERR (0, "max1", "1-*/11", E (TOO_LARGE),
                 "exceeds the maximum message size of 10"),
      BEGIN_ERR (0, "max2", "1-11/*", E (TOO_LARGE), "range-end 11"),
      BEGIN_ERR (0, "max3", "12-*/*", E (TOO_LARGE), "range-start 12"),
      BEGIN (0, "max4", "1-*/*", NULL), DATA (0, "0123456789"),
      DATA_ERR (0, "a", E (TOO_LARGE), "maximum message size of 10"), FREE (0),
      ALL_FREED, BEGIN (0, "max5", "11-*/*", NULL),
      DATA_ERR (0, "a", E (TOO_LARGE), "maximum message size"), FREE (0),
      BEGIN (0, "max6", "1-10/10", NULL), DATA (0, "0123456789"),
      END_DONE (0, "$", "0123456789", NULL), ALL_FREED } },
  { "huge announced values refused before any allocation",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN_ERR (0, "huge1", "1-*/18446744073709551615", E (TOO_LARGE),
                 "total 18446744073709551615"),
      BEGIN_ERR (0, "huge2", "9223372036854775807-*/*", E (TOO_LARGE),
                 "range-start 9223372036854775807"),
      BEGIN_ERR (0, "huge3",
                 "18446744073709551615-18446744073709551615/"
                 "18446744073709551615",
                 E (TOO_LARGE), NULL),
      BEGIN_ERR (0, "huge4", "1-18446744073709551615/*", E (TOO_LARGE),
                 "range-end"),
      ALL_FREED } },
  /* With no practical ceiling, 2^63 - 1 is announced: memory follows what
   * arrived, not what was announced. */
  { "huge total accepted, memory follows the data",
    G_MAXSIZE,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "huge5", "1-*/9223372036854775807", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)), BUFFERED_MAX (MC + 2 * PC + 512),
      BEGIN (0, "huge5", "9223372036854775000-*/9223372036854775807", NULL),
      DATA (0, "xyz"), END (0, "+", R (PENDING)),
      BEGIN (0, "huge5",
             "9223372036854775807-9223372036854775807/"
             "9223372036854775807",
             NULL),
      DATA (0, "z"), END (0, "$", R (PENDING)),
      BUFFERED_MAX (MC + 3 * PC + 3 * 256),
      PROGRESS ("huge5", 8, 9223372036854775807),
      BEGIN (0, "huge5", "9223372036854775807-*/9223372036854775807", NULL),
      DATA_ERR (0, "ab", E (BEYOND_TOTAL), "past the total"), FREE (0),
      BEGIN_ERR (0, "huge6", "9223372036854775809-*/*", E (TOO_LARGE),
                 "range-start"),
      ABANDON ("huge5", TRUE, 8), ALL_FREED } },
  { "malformed Byte-Range and Message-ID",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN_ERR (0, "bad1", "0-*/*", E (INVALID), "range-start 0 is not >= 1"),
      BEGIN_ERR (0, "bad1", "0-0/0", E (INVALID), "range-start 0"),
      BEGIN_ERR (0, "bad2", "5-3/10", E (INVALID), "range-end 3 is before"),
      BEGIN_ERR (0, "bad3", "1-11/10", E (INVALID),
                 "range-end 11 is past the total 10"),
      BEGIN_ERR (0, "bad4", "12-*/10", E (BEYOND_TOTAL), "range-start 12"),
      BEGIN_ERR (0, "", "1-*/*", E (INVALID), "Message-ID"),
      BEGIN_ERR (0, "0123456789abcdef0123456789abcdefX", "1-*/*", E (INVALID),
                 "Message-ID"),
      ALL_FREED,
      /* Empty chunk right after the last byte: legal. */
      BEGIN (0, "bad5", "11-*/10", NULL), END (0, "+", R (PENDING)),
      BEGIN (0, "0123456789abcdef0123456789abcdef", "1-*/*", NULL), FREE (0),
      PENDING (2) } },
  { "total changes between chunks",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "tot1", "1-4/8", NULL), DATA (0, "abcd"),
      END (0, "+", R (PENDING)),
      BEGIN_ERR (0, "tot1", "5-*/9", E (INCONSISTENT),
                 "total 9 differs from the total 8"),
      PROGRESS ("tot1", 4, 8), BEGIN (0, "tot1", "5-8/8", NULL),
      DATA (0, "efgh"), END_DONE (0, "$", "abcdefgh", NULL), ALL_FREED } },
  { "total below bytes already received",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "tot2", "1-*/*", NULL), DATA (0, "abcdefgh"),
      END (0, "+", R (PENDING)),
      BEGIN_ERR (0, "tot2", "2-*/4", E (INCONSISTENT),
                 "less than byte 8 already received"),
      PROGRESS ("tot2", 8, UNKNOWN), BEGIN (0, "tot2", "9-*/10", NULL),
      DATA (0, "ij"), END_DONE (0, "+", "abcdefghij", NULL), ALL_FREED } },
  { "'$' end disagrees with the total",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "tot3", "1-4/8", NULL), DATA (0, "abcd"),
      END_ERR (0, "$", E (INCONSISTENT), "ends at byte 4 but the total is 8"),
      PROGRESS ("tot3", 4, 8), BEGIN (0, "tot4", "5-*/*", NULL),
      DATA (0, "efgh"), END (0, "+", R (PENDING)),
      BEGIN (0, "tot4", "1-*/*", NULL), DATA (0, "ab"),
      END_ERR (0, "$", E (INCONSISTENT), "byte 8 was already received"),
      PROGRESS ("tot4", 6, UNKNOWN), PENDING (2) } },
  { "more body than range-end",
    MIB,
    0,
    0,
    0,
    TRUE,
    { BEGIN (0, "many1", "1-4/8", NULL),
      DATA_ERR (0, "abcde", E (TOO_MANY_BYTES),
                "5 more body bytes from byte 1 go past range-end 4"),
      PROGRESS ("many1", 0, 8),
      DATA_ERR (0, "a", E (TOO_MANY_BYTES), "already failed"),
      END_ERR (0, "$", E (TOO_MANY_BYTES), "already failed"),
      BEGIN (0, "many1", "1-4/8", NULL), DATA (0, "abc"),
      DATA_ERR (0, "de", E (TOO_MANY_BYTES), "from byte 4"), FREE (0),
      PROGRESS ("many1", 3, 8) } },
  { "body past a known total",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "past1", "1-*/4", NULL),
      DATA_ERR (0, "abcde", E (BEYOND_TOTAL), "past the total 4"), FREE (0),
      BEGIN (0, "past2", "3-*/*", NULL), DATA (0, "cd"),
      END (0, "$", R (PENDING)), BEGIN (0, "past2", "1-*/*", NULL),
      DATA_ERR (0, "abcde", E (BEYOND_TOTAL), "past the total 4"), FREE (0),
      PENDING (2) } },
  { "zero-length messages",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "zero1", "1-0/0", NULL), END_DONE (0, "$", "", NULL),
      BEGIN (0, "zero2", NULL, NULL), END_DONE (0, "$", "", NULL),
      BEGIN (0, "zero3", "1-*/*", "text/plain"), DATA (0, ""),
      END_DONE (0, "$", "", "text/plain"), BEGIN (0, "zero4", "1-0/0", NULL),
      END_DONE (0, "+", "", NULL), BEGIN (0, "zero5", "1-0/0", NULL),
      DATA_ERR (0, "a", E (TOO_MANY_BYTES), NULL), FREE (0),
      BEGIN (0, "zero6", "1-*/0", NULL),
      DATA_ERR (0, "a", E (BEYOND_TOTAL), NULL), FREE (0), PENDING (2) } },
  { "abandon a pending message",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "aban1", "1-*/10", NULL), DATA (0, "abcde"),
      END (0, "+", R (PENDING)), ABANDON ("aban1", TRUE, 5), ALL_FREED,
      ABANDON ("aban1", FALSE, 0), ABANDON ("nosuch", FALSE, 0),
      /* Not remembered: a later chunk starts afresh. */
      BEGIN (0, "aban1", "6-10/10", NULL), DATA (0, "fghij"),
      END (0, "$", R (PENDING)), PROGRESS ("aban1", 5, 10) } },
  { "abandon while a chunk is open",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "aban2", "1-*/*", NULL), DATA (0, "abc"),
      ABANDON ("aban2", TRUE, 3), ALL_FREED,
      DATA_ERR (0, "d", E (GONE), "abandoned while this chunk was open"),
      END_ERR (0, "$", E (GONE), NULL), ALL_FREED } },
  { "message dropped while another chunk is open",
    MIB,
    50,
    0,
    0,
    FALSE,
    { BEGIN (0, "drop1", "1-*/*", NULL), DATA (0, "abc"),
      BEGIN (1, "drop1", "40-*/*", NULL),
      DATA_ERR (1, D20, E (TOO_LARGE), "maximum message size of 50"),
      ALL_FREED,
      DATA_ERR (0, "d", E (TOO_LARGE), "refused (413) while this chunk"),
      END_ERR (1, "+", E (TOO_LARGE), "already failed"),
      END_ERR (0, "+", E (TOO_LARGE), NULL), ALL_FREED } },
  { "number of messages bounded",
    MIB,
    0,
    2,
    0,
    FALSE,
    { BEGIN (0, "many-a", "1-*/*", NULL), END (0, "+", R (PENDING)),
      BEGIN (0, "many-b", "1-*/2", NULL), DATA (0, "b"),
      END (0, "+", R (PENDING)),
      BEGIN_ERR (0, "many-c", "1-*/*", E (TOO_MANY_MESSAGES),
                 "2 messages are already being reassembled"),
      BEGIN (0, "many-b", "2-2/2", NULL), DATA (0, "c"),
      END_DONE (0, "$", "bc", NULL), PENDING (1),
      BEGIN (0, "many-d", "1-*/*", NULL), FREE (0), PENDING (2),
      BEGIN_ERR (0, "many-c", "1-*/*", E (TOO_LARGE), "refused earlier") } },
  { "Content-Type kept from the first chunk, others must match",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "ct1", "1-*/8", NULL),
      DATA (0, "ab"),
      END (0, "+", R (PENDING)),
      BEGIN (0, "ct1", "3-4/8", "text/plain"),
      DATA (0, "cd"),
      END (0, "+", R (PENDING)),
      { .op = OP_BEGIN,
        .slot = 0,
        .id = "ct1",
        .range = "5-8/8",
        .ct = "image/png",
        .err = E (INCONSISTENT),
        .text = "Content-Type 'image/png' differs from 'text/plain'" },
      BEGIN (0, "ct1", "5-8/8", "TEXT/Plain"),
      DATA (0, "efgh"),
      END_DONE (0, "$", "abcdefgh", "text/plain"),
      ALL_FREED } },
  { "too many separate ranges",
    MIB,
    0,
    0,
    2,
    FALSE,
    { BEGIN (0, "frag1", "1-1/10", NULL), DATA (0, "a"),
      END (0, "+", R (PENDING)), BEGIN (0, "frag1", "3-3/10", NULL),
      DATA (0, "c"), END (0, "+", R (PENDING)),
      BEGIN (0, "frag1", "5-5/10", NULL),
      DATA_ERR (0, "e", E (TOO_FRAGMENTED), "more than 2 separate"), FREE (0),
      ALL_FREED } },
  { "adjacent ranges merge",
    MIB,
    0,
    0,
    1,
    FALSE,
    { BEGIN (0, "frag2", "3-3/3", NULL), DATA (0, "c"),
      END (0, "$", R (PENDING)), BEGIN (0, "frag2", "2-2/3", NULL),
      DATA (0, "b"), END (0, "+", R (PENDING)),
      BEGIN (0, "frag2", "1-1/3", NULL), DATA (0, "a"),
      END_DONE (0, "+", "abc", NULL), ALL_FREED } },
  { "chunk cut without end-line keeps its bytes",
    MIB,
    0,
    0,
    0,
    FALSE,
    { BEGIN (0, "cut1", "1-*/6", NULL), DATA (0, "abc"), FREE (0),
      PROGRESS ("cut1", 3, 6), BEGIN (0, "cut1", "4-6/6", NULL),
      DATA (0, "def"), END_DONE (0, "$", "abcdef", NULL), ALL_FREED } },
};

/* Test-local Byte-Range reader ("s-e/t", "*" allowed), so these tests do
 * not depend on msrp-headers.c. */
static void
parse_range (const char *text, MsrpByteRange *out)
{
  char *p;

  memset (out, 0, sizeof *out);
  out->start = g_ascii_strtoull (text, &p, 10);
  ck_assert_int_eq (*p, '-');
  p++;
  if (*p == '*')
    {
      out->end_unknown = TRUE;
      p++;
    }
  else
    {
      out->end = g_ascii_strtoull (p, &p, 10);
    }
  ck_assert_int_eq (*p, '/');
  p++;
  if (*p == '*')
    {
      out->total_unknown = TRUE;
      p++;
    }
  else
    {
      out->total = g_ascii_strtoull (p, &p, 10);
    }
  ck_assert_int_eq (*p, '\0');
}

static void
check_error (const GError *error, const Step *st, int step_no)
{
  ck_assert_msg (error != NULL, "step %d: expected error %d", step_no,
                 st->err);
  ck_assert_msg (error->domain == MSRP_REASSEMBLY_ERROR &&
                     error->code == st->err,
                 "step %d: error %d (%s), expected %d", step_no, error->code,
                 error->message, st->err);
  if (st->text != NULL)
    ck_assert_msg (strstr (error->message, st->text) != NULL,
                   "step %d: error '%s' lacks '%s'", step_no, error->message,
                   st->text);
}

/* The progress msrp_reassembly_chunk_end() reported: zero unless the
 * message went on; for PENDING what msrp_reassembler_get_progress() says;
 * for COMPLETE the body's size; for INTERRUPTED (abort) the step's n of
 * total, and the message is no longer pending. */
static void
check_end_progress (MsrpReassembler *r, const char *id,
                    MsrpReassemblyResult res, GBytes *body,
                    const MsrpReassemblyProgress *prog, const Step *st,
                    int step_no)
{
  guint64 received = 0, total = 0;
  gboolean known = FALSE;
  gboolean pending =
      msrp_reassembler_get_progress (r, id, &received, &total, &known);

  switch (res)
    {
    case MSRP_REASSEMBLY_PENDING:
      ck_assert_msg (pending, "step %d: '%s' not pending", step_no, id);
      ck_assert_uint_eq (prog->received, received);
      ck_assert_uint_eq (prog->total, total);
      ck_assert_int_eq (prog->total_known, known);
      break;
    case MSRP_REASSEMBLY_COMPLETE:
      ck_assert_msg (!pending, "step %d: '%s' still pending", step_no, id);
      ck_assert_uint_eq (prog->received, g_bytes_get_size (body));
      ck_assert_uint_eq (prog->total, g_bytes_get_size (body));
      ck_assert (prog->total_known);
      break;
    case MSRP_REASSEMBLY_INTERRUPTED:
      ck_assert_msg (!pending, "step %d: aborted '%s' still pending", step_no,
                     id);
      ck_assert_uint_eq (prog->received, st->n);
      ck_assert_int_eq (prog->total_known, st->total != UNKNOWN);
      ck_assert_uint_eq (prog->total, st->total != UNKNOWN ? st->total : 0);
      break;
    case MSRP_REASSEMBLY_FAILED:
    case MSRP_REASSEMBLY_DUPLICATE:
    default:
      ck_assert_uint_eq (prog->received, 0);
      ck_assert_uint_eq (prog->total, 0);
      ck_assert (!prog->total_known);
      break;
    }
}

typedef struct
{
  MsrpReassemblyChunk *chunk;
  GError *error;
} FeedCtx;

static int
feed_chunk (const unsigned char *piece, size_t len, void *user_data)
{
  FeedCtx *ctx = user_data;

  return msrp_reassembly_chunk_add_data (ctx->chunk, piece, len, &ctx->error)
             ? 0
             : 1;
}

static void
run_case (const Case *tc, SplitMode mode)
{
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (tc->max_buffered);
  MsrpReassemblyChunk *slots[N_SLOTS] = { NULL };
  const char *slot_ids[N_SLOTS] = { NULL };
  gsize mark = 0;

  if (tc->max_message_size != 0)
    msrp_reassembler_set_max_message_size (r, tc->max_message_size);
  if (tc->max_messages != 0)
    msrp_reassembler_set_max_messages (r, tc->max_messages);
  if (tc->max_ranges != 0)
    msrp_reassembler_set_max_ranges (r, tc->max_ranges);

  for (int i = 0; i < MAX_STEPS && tc->steps[i].op != OP_STOP; i++)
    {
      const Step *st = &tc->steps[i];
      g_autoptr (GError) error = NULL;

      switch (st->op)
        {
        case OP_BEGIN:
          {
            MsrpByteRange range;

            ck_assert_msg (slots[st->slot] == NULL, "step %d: slot busy", i);
            if (st->range != NULL)
              parse_range (st->range, &range);
            slots[st->slot] = msrp_reassembler_begin_chunk (
                r, st->id, st->range != NULL ? &range : NULL, st->ct, &error);
            slot_ids[st->slot] = st->id;
            if (st->err == OK)
              ck_assert_msg (slots[st->slot] != NULL,
                             "step %d: begin failed: %s", i, error->message);
            else
              {
                ck_assert_ptr_null (slots[st->slot]);
                check_error (error, st, i);
              }
            break;
          }
        case OP_DATA:
          {
            FeedCtx ctx = { slots[st->slot], NULL };
            size_t len = strlen (st->data);
            int rc;

            ck_assert_ptr_nonnull (ctx.chunk);
            rc = guard_feed (st->data, len, mode, len / 2, feed_chunk, &ctx);
            if (st->err == OK)
              ck_assert_msg (rc == 0, "step %d: data failed: %s", i,
                             ctx.error->message);
            else
              {
                ck_assert_int_ne (rc, 0);
                check_error (ctx.error, st, i);
              }
            g_clear_error (&ctx.error);
            break;
          }
        case OP_END:
          {
            g_autoptr (GBytes) body = NULL;
            g_autofree char *ct = NULL;
            MsrpReassemblyResult res;
            MsrpReassemblyProgress prog;
            const char *id;

            ck_assert_ptr_nonnull (slots[st->slot]);
            memset (&prog, 0xa5, sizeof prog);
            id = slot_ids[st->slot];
            res = msrp_reassembly_chunk_end (
                g_steal_pointer (&slots[st->slot]), st->data[0], &body, &ct,
                &prog, &error);
            ck_assert_msg ((int) res == st->result,
                           "step %d: result %d, expected "
                           "%d (%s)",
                           i, res, st->result,
                           error != NULL ? error->message : "no error");
            if (st->err != OK)
              check_error (error, st, i);
            else
              ck_assert_ptr_null (error);
            if (res == MSRP_REASSEMBLY_COMPLETE)
              {
                gsize len;
                const char *data = g_bytes_get_data (body, &len);

                ck_assert_uint_eq (len, strlen (st->text));
                ck_assert (len == 0 || memcmp (data, st->text, len) == 0);
                if (st->ct != NULL)
                  ck_assert_str_eq (ct, st->ct);
                else
                  ck_assert_ptr_null (ct);
              }
            else
              {
                ck_assert_ptr_null (body);
                ck_assert_ptr_null (ct);
              }
            check_end_progress (r, id, res, body, &prog, st, i);
            break;
          }
        case OP_FREE:
          g_clear_pointer (&slots[st->slot], msrp_reassembly_chunk_free);
          break;
        case OP_ABANDON:
          {
            guint64 received = 12345;
            gboolean found = msrp_reassembler_abandon (r, st->id, &received);

            ck_assert_int_eq (found, st->result);
            ck_assert_uint_eq (received, st->n);
            break;
          }
        case OP_PROGRESS:
          {
            guint64 received = 0, total = 0;
            gboolean known = FALSE;

            ck_assert_msg (msrp_reassembler_get_progress (r, st->id, &received,
                                                          &total, &known),
                           "step %d: '%s' not pending", i, st->id);
            ck_assert_uint_eq (received, st->n);
            ck_assert_int_eq (known, st->total != UNKNOWN);
            if (known)
              ck_assert_uint_eq (total, st->total);
            break;
          }
        case OP_PENDING:
          ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), st->n);
          break;
        case OP_MARK:
          mark = msrp_reassembler_get_buffered (r);
          break;
        case OP_SAME_AS_MARK:
          ck_assert_uint_eq (msrp_reassembler_get_buffered (r), mark);
          break;
        case OP_BUFFERED_MAX:
          ck_assert_uint_le (msrp_reassembler_get_buffered (r), st->n);
          break;
        case OP_STOP:
          break;
        }
      ck_assert_uint_le (msrp_reassembler_get_buffered (r), tc->max_buffered);
    }
  for (int s = 0; s < N_SLOTS; s++)
    msrp_reassembly_chunk_free (slots[s]);
}

START_TEST (test_scripted)
{
  const Case *tc = &cases[_i / 3];
  SplitMode mode = (SplitMode) (_i % 3);

  if (tc->whole_only && mode != SPLIT_WHOLE)
    return;
  run_case (tc, mode);
}
END_TEST

/* ---- status mapping ---------------------------------------------------- */

static const struct
{
  int code;
  guint status;
} status_cases[] = {
  { MSRP_REASSEMBLY_ERROR_INVALID, 400 },
  { MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL, 400 },
  { MSRP_REASSEMBLY_ERROR_INCONSISTENT, 400 },
  { MSRP_REASSEMBLY_ERROR_TOO_MANY_BYTES, 400 },
  { MSRP_REASSEMBLY_ERROR_TOO_LARGE, 413 },
  { MSRP_REASSEMBLY_ERROR_TOO_FRAGMENTED, 413 },
  { MSRP_REASSEMBLY_ERROR_TOO_MANY_MESSAGES, 413 },
  { MSRP_REASSEMBLY_ERROR_GONE, 413 },
};

START_TEST (test_status)
{
  g_autoptr (GError) e =
      g_error_new (MSRP_REASSEMBLY_ERROR, status_cases[_i].code, "x");

  ck_assert_uint_eq (msrp_reassembly_error_to_status (e),
                     status_cases[_i].status);
}
END_TEST

START_TEST (test_status_foreign)
{
  g_autoptr (GError) e =
      g_error_new (g_quark_from_static_string ("test-other-domain"),
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE, "x");

  ck_assert_uint_eq (msrp_reassembly_error_to_status (e), 400);
}
END_TEST

/* ---- list, remembered ids, reverse order ------------------------------- */

static MsrpReassemblyResult
send_chunk (MsrpReassembler *r, const char *id, const char *range,
            const void *data, gsize len, char flag, GBytes **body)
{
  MsrpByteRange br;
  g_autoptr (GError) error = NULL;
  MsrpReassemblyChunk *c;
  MsrpReassemblyResult res;

  parse_range (range, &br);
  c = msrp_reassembler_begin_chunk (r, id, &br, NULL, &error);
  REQUIRE (c != NULL, "%s %s: %s", id, range, error->message);
  REQUIRE (
      msrp_reassembly_chunk_add_data (c, guarded (data, len), len, &error),
      "%s %s: %s", id, range, error->message);
  res = msrp_reassembly_chunk_end (c, flag, body, NULL, NULL, &error);
  REQUIRE (res != MSRP_REASSEMBLY_FAILED, "%s", error->message);
  return res;
}

START_TEST (test_list_and_abandon_all)
{
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (MIB);
  g_autoptr (GPtrArray) ids = NULL;
  static const char *const expect[] = { "idA1", "idB22", "idC333" };

  send_chunk (r, "idC333", "1-*/*", "ccc", 3, '+', NULL);
  send_chunk (r, "idA1", "1-*/*", "a", 1, '+', NULL);
  send_chunk (r, "idB22", "2-*/9", "bb", 2, '+', NULL);
  ids = msrp_reassembler_list_pending (r);
  ck_assert_uint_eq (ids->len, 3);
  for (guint i = 0; i < ids->len; i++)
    {
      guint64 received = 0;

      ck_assert_str_eq (g_ptr_array_index (ids, i), expect[i]);
      ck_assert (
          msrp_reassembler_abandon (r, g_ptr_array_index (ids, i), &received));
      ck_assert_uint_eq (received, i + 1);
    }
  ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), 0);
  ck_assert_uint_eq (msrp_reassembler_get_buffered (r), 0);
}
END_TEST

/* Late chunks of the last MSRP_REASSEMBLY_REMEMBERED_IDS completed messages
 * are recognised; older ids are forgotten and start afresh. */
START_TEST (test_remembered_ids)
{
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (MIB);
  const int n = MSRP_REASSEMBLY_REMEMBERED_IDS + 1;

  for (int i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("mem%d", i);
      g_autoptr (GBytes) body = NULL;

      ck_assert_int_eq (send_chunk (r, id, "1-2/2", "hi", 2, '$', &body),
                        MSRP_REASSEMBLY_COMPLETE);
      ck_assert_uint_eq (g_bytes_get_size (body), 2);
    }
  ck_assert_int_eq (send_chunk (r, "mem1", "1-2/2", "hi", 2, '$', NULL),
                    MSRP_REASSEMBLY_DUPLICATE);
  g_autofree char *last = g_strdup_printf ("mem%d", n - 1);
  ck_assert_int_eq (send_chunk (r, last, "1-*/*", "h", 1, '+', NULL),
                    MSRP_REASSEMBLY_DUPLICATE);
  /* mem0 was forgotten: a new message. */
  ck_assert_int_eq (send_chunk (r, "mem0", "1-*/*", "h", 1, '+', NULL),
                    MSRP_REASSEMBLY_PENDING);
  ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), 1);
}
END_TEST

/* An aborted id is remembered in the same bounded list: refused (GONE)
 * until MSRP_REASSEMBLY_REMEMBERED_IDS later ids have pushed it out, then a
 * new message. */
START_TEST (test_remembered_aborted)
{
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (MIB);
  g_autoptr (GError) error = NULL;
  MsrpByteRange br;
  MsrpReassemblyChunk *c;

  ck_assert_int_eq (send_chunk (r, "gone0", "1-*/9", "abc", 3, '#', NULL),
                    MSRP_REASSEMBLY_INTERRUPTED);
  for (int i = 0; i < MSRP_REASSEMBLY_REMEMBERED_IDS; i++)
    {
      g_autofree char *id = g_strdup_printf ("after%d", i);

      parse_range ("4-*/9", &br);
      c = msrp_reassembler_begin_chunk (r, "gone0", &br, NULL, &error);
      ck_assert_ptr_null (c);
      ck_assert_int_eq (error->code, MSRP_REASSEMBLY_ERROR_GONE);
      g_clear_error (&error);
      ck_assert_int_eq (send_chunk (r, id, "1-1/1", "x", 1, '$', NULL),
                        MSRP_REASSEMBLY_COMPLETE);
    }
  ck_assert_uint_eq (msrp_reassembler_get_buffered (r), 0);
  /* Forgotten: a new message. */
  ck_assert_int_eq (send_chunk (r, "gone0", "4-*/9", "def", 3, '+', NULL),
                    MSRP_REASSEMBLY_PENDING);
  ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), 1);
}
END_TEST

/* A chunk belongs to the message its id named when it was opened.  Two
 * chunks of "reuse1" stay open while the message completes (one opened
 * before, one after, as a late duplicate); the id is then forgotten, a new
 * message under it is aborted with '#'.  That abort ends the new message
 * only (section 7.1): the old chunks are still late duplicates of the
 * delivered one (DUPLICATE, answered 200), not chunks of the aborted one
 * (GONE).  Found by fuzz-reassembly (corpus regress-stale-chunk-of-reused-id,
 * where the harness, not the module, was wrong). */
START_TEST (test_forgotten_id_reused_then_aborted)
{
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (MIB);
  g_autoptr (GError) error = NULL;
  MsrpReassemblyChunk *before, *after;
  MsrpByteRange br;

  parse_range ("1-4/4", &br);
  before = msrp_reassembler_begin_chunk (r, "reuse1", &br, NULL, &error);
  ck_assert_ptr_nonnull (before);
  ck_assert_int_eq (send_chunk (r, "reuse1", "1-4/4", "abcd", 4, '$', NULL),
                    MSRP_REASSEMBLY_COMPLETE);
  after = msrp_reassembler_begin_chunk (r, "reuse1", &br, NULL, &error);
  ck_assert_ptr_nonnull (after);
  for (int i = 0; i < MSRP_REASSEMBLY_REMEMBERED_IDS; i++)
    {
      g_autofree char *id = g_strdup_printf ("push%d", i);

      ck_assert_int_eq (send_chunk (r, id, "1-1/1", "x", 1, '$', NULL),
                        MSRP_REASSEMBLY_COMPLETE);
    }
  /* Forgotten: a new message, which the sender aborts. */
  ck_assert_int_eq (send_chunk (r, "reuse1", "1-*/9", "abc", 3, '#', NULL),
                    MSRP_REASSEMBLY_INTERRUPTED);
  parse_range ("4-*/9", &br);
  ck_assert_ptr_null (
      msrp_reassembler_begin_chunk (r, "reuse1", &br, NULL, &error));
  ck_assert_int_eq (error->code, MSRP_REASSEMBLY_ERROR_GONE);
  g_clear_error (&error);

  ck_assert (
      msrp_reassembly_chunk_add_data (before, guarded ("ab", 2), 2, &error));
  ck_assert_int_eq (
      msrp_reassembly_chunk_end (before, '+', NULL, NULL, NULL, &error),
      MSRP_REASSEMBLY_DUPLICATE);
  ck_assert_ptr_null (error);
  ck_assert (
      msrp_reassembly_chunk_add_data (after, guarded ("abcd", 4), 4, &error));
  ck_assert_int_eq (
      msrp_reassembly_chunk_end (after, '$', NULL, NULL, NULL, &error),
      MSRP_REASSEMBLY_DUPLICATE);
  ck_assert_ptr_null (error);
  ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), 0);
  ck_assert_uint_eq (msrp_reassembler_get_buffered (r), 0);
}
END_TEST

/* Reverse delivery of many small chunks: one piece per chunk, no merging
 * copies; the result is exact and all memory is returned. */
START_TEST (test_reverse_many_chunks)
{
  const guint n_chunks = 20000, size = 3;
  const guint64 total = (guint64) n_chunks * size;
  g_autoptr (MsrpReassembler) r =
      msrp_reassembler_new (MSRP_REASSEMBLY_MESSAGE_COST +
                            n_chunks * (size + MSRP_REASSEMBLY_PIECE_COST));
  g_autofree guint8 *msg = g_malloc (total);
  g_autoptr (GBytes) body = NULL;

  for (guint64 i = 0; i < total; i++)
    msg[i] = (guint8) (i * 7 + i / 251);
  for (guint k = n_chunks; k-- > 0;)
    {
      g_autofree char *range =
          g_strdup_printf ("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/*",
                           (guint64) k * size + 1, (guint64) (k + 1) * size);
      MsrpReassemblyResult res =
          send_chunk (r, "reverse1", range, msg + (gsize) k * size, size,
                      k == n_chunks - 1 ? '$' : '+', &body);

      REQUIRE (
          res == (k == 0 ? MSRP_REASSEMBLY_COMPLETE : MSRP_REASSEMBLY_PENDING),
          "chunk %u: result %d", k, res);
    }
  ck_assert_uint_eq (g_bytes_get_size (body), total);
  ck_assert (memcmp (g_bytes_get_data (body, NULL), msg, total) == 0);
  ck_assert_uint_eq (msrp_reassembler_get_buffered (r), 0);
}
END_TEST

/* ---- randomized -------------------------------------------------------- */

typedef struct
{
  guint64 a, b;    /* bytes [a, b]; b = a - 1 when empty */
  guint64 hdr_end; /* range-end written in the header */
  gboolean end_known;
  gboolean total_known;
  char flag;
} PlanChunk;

typedef struct
{
  char id[16];
  guint8 *body;
  guint64 len;
  GArray *plan; /* PlanChunk, in delivery order */
  guint next;
  guint8 *have; /* model: byte i + 1 received */
  guint64 n_have;
  gboolean total_known;
  gboolean completed;
  gboolean has_abort; /* one chunk of the plan ends with '#' */
  gboolean aborted;   /* ... and it ended before the message completed */
} RMsg;

typedef struct
{
  MsrpReassemblyChunk *chunk;
  RMsg *msg;
  PlanChunk pc;
  guint64 written;
  gboolean failed; /* add_data failed (GONE) */
} RSlot;

static void
plan_add (GRand *g, RMsg *m, guint64 a, guint64 b, gboolean cuttable)
{
  PlanChunk pc = { .a = a, .b = b };

  if (cuttable && b >= a && g_rand_int_range (g, 0, 4) == 0)
    {
      /* Interrupted (sections 5.1, 7.1.1): [a, c-1] ends early with '+', and
       * [c, b] comes later as a chunk of its own. */
      guint64 c = a + (guint64) g_rand_int_range (g, 0, (gint32) (b - a + 1));
      PlanChunk first = {
        .a = a,
        .b = c - 1,
        .hdr_end = b,
        /* range-end "*" as an interruptible chunk should have, or the
         * original end with a short body (section 7.3.1 resilience). */
        .end_known = g_rand_boolean (g),
        .total_known = g_rand_boolean (g),
        .flag = '+',
      };

      g_array_append_val (m->plan, first);
      plan_add (g, m, c, b, FALSE);
      return;
    }
  pc.hdr_end = b;
  pc.end_known = g_rand_boolean (g);
  pc.total_known = g_rand_boolean (g);
  /* The chunk holding the last byte ends with '$' (section 7.1). */
  pc.flag = b == m->len ? '$' : '+';
  g_array_append_val (m->plan, pc);
}

static void
rmsg_init (GRand *g, RMsg *m, int index, guint64 len, guint max_chunk)
{
  memset (m, 0, sizeof *m);
  g_snprintf (m->id, sizeof m->id, "rnd%dx%u", index,
              g_rand_int_range (g, 0, 100000));
  m->len = len;
  m->body = g_malloc (len + 1);
  for (guint64 i = 0; i < len; i++)
    m->body[i] = (guint8) g_rand_int_range (g, 0, 256);
  m->have = g_malloc0 (len + 1);
  m->plan = g_array_new (FALSE, FALSE, sizeof (PlanChunk));
  if (len == 0)
    {
      plan_add (g, m, 1, 0, FALSE);
    }
  else
    {
      for (guint64 pos = 1; pos <= len;)
        {
          guint64 size =
              (guint64) g_rand_int_range (g, 1, (gint32) max_chunk + 1);
          guint64 b = MIN (len, pos + size - 1);

          plan_add (g, m, pos, b, TRUE);
          pos = b + 1;
        }
      /* Overlapping resends. */
      for (int k = g_rand_int_range (g, 0, 4); k > 0; k--)
        {
          guint64 a = 1 + (guint64) g_rand_int_range (g, 0, (gint32) len);
          guint64 b =
              a + (guint64) g_rand_int_range (g, 0, (gint32) (len - a + 1));

          plan_add (g, m, a, b, TRUE);
        }
    }
  for (guint i = m->plan->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (g, 0, (gint32) i);
      PlanChunk t = g_array_index (m->plan, PlanChunk, i - 1);

      g_array_index (m->plan, PlanChunk, i - 1) =
          g_array_index (m->plan, PlanChunk, j);
      g_array_index (m->plan, PlanChunk, j) = t;
    }
  /* A sender giving the message up (section 7.1): one chunk, any one, ends
   * with '#' instead of '+' or '$'.  Chunks after it are still sent, as a
   * peer sending on several connections might, and must be refused. */
  if (g_rand_int_range (g, 0, 4) == 0)
    {
      guint k = (guint) g_rand_int_range (g, 0, (gint32) m->plan->len);

      g_array_index (m->plan, PlanChunk, k).flag = '#';
      m->has_abort = TRUE;
    }
}

static void
rmsg_clear (RMsg *m)
{
  g_free (m->body);
  g_free (m->have);
  g_array_unref (m->plan);
}

#define R_MSGS 3
#define R_SLOTS 3
#define R_CEILING (8 * MIB)

static void
rand_begin (MsrpReassembler *r, RSlot *slot, RMsg *m)
{
  g_autoptr (GError) error = NULL;
  MsrpByteRange br = { 0 };

  slot->pc = g_array_index (m->plan, PlanChunk, m->next++);
  slot->msg = m;
  slot->written = 0;
  slot->failed = FALSE;
  br.start = slot->pc.a;
  br.end = slot->pc.hdr_end;
  br.end_unknown = !slot->pc.end_known;
  br.total = m->len;
  br.total_unknown = !slot->pc.total_known;
  slot->chunk = msrp_reassembler_begin_chunk (r, m->id, &br, "a/b", &error);
  if (m->aborted)
    {
      /* The sender said it would send no further chunks: refused. */
      REQUIRE (slot->chunk == NULL, "%s: chunk of an aborted message accepted",
               m->id);
      REQUIRE (error->domain == MSRP_REASSEMBLY_ERROR &&
                   error->code == MSRP_REASSEMBLY_ERROR_GONE,
               "%s: %s", m->id, error->message);
      REQUIRE (msrp_reassembly_error_to_status (error) == 413, "%s", m->id);
      slot->msg = NULL;
      return;
    }
  REQUIRE (slot->chunk != NULL, "%s: %s", m->id, error->message);
  if (!m->completed && slot->pc.total_known)
    m->total_known = TRUE;
}

static void
rand_write (GRand *g, RSlot *slot)
{
  g_autoptr (GError) error = NULL;
  RMsg *m = slot->msg;
  guint64 left = slot->pc.b + 1 - slot->pc.a - slot->written;
  guint64 n = (guint64) g_rand_int_range (g, 0, (gint32) MIN (left, 3000) + 1);
  guint64 pos = slot->pc.a + slot->written;
  gboolean ok = msrp_reassembly_chunk_add_data (
      slot->chunk, guarded (m->body + (pos - 1), n), n, &error);

  if (m->aborted && !m->completed)
    {
      /* Open when the '#' chunk ended. */
      REQUIRE (!ok, "%s: data accepted after the abort", m->id);
      REQUIRE (error->code == MSRP_REASSEMBLY_ERROR_GONE, "%s: %s", m->id,
               error->message);
      slot->failed = TRUE;
      return;
    }
  REQUIRE (ok, "%s: %s", m->id, error->message);
  slot->written += n;
  if (!m->completed)
    {
      for (guint64 i = pos; i < pos + n; i++)
        {
          if (!m->have[i - 1])
            {
              m->have[i - 1] = 1;
              m->n_have++;
            }
        }
    }
}

static void
rand_end (MsrpReassembler *r, RSlot *slot)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *ct = NULL;
  RMsg *m = slot->msg;
  MsrpReassemblyResult res, expect;
  MsrpReassemblyProgress prog;
  guint64 received = 0, total = 0;
  gboolean known = FALSE, pending;

  memset (&prog, 0xa5, sizeof prog);
  res = msrp_reassembly_chunk_end (g_steal_pointer (&slot->chunk),
                                   slot->pc.flag, &body, &ct, &prog, &error);
  pending =
      msrp_reassembler_get_progress (r, m->id, &received, &total, &known);
  if (m->aborted && !m->completed)
    {
      /* Open when the '#' chunk ended: fails whatever its own flag. */
      REQUIRE (res == MSRP_REASSEMBLY_FAILED,
               "%s: chunk open across the "
               "abort: result %d",
               m->id, res);
      REQUIRE (error->code == MSRP_REASSEMBLY_ERROR_GONE, "%s: %s", m->id,
               error->message);
      REQUIRE (!pending, "%s pending after the abort", m->id);
      slot->msg = NULL;
      return;
    }
  REQUIRE (!slot->failed, "%s: failed chunk of a live message", m->id);
  REQUIRE (res != MSRP_REASSEMBLY_FAILED, "%s: %s", m->id, error->message);
  if (m->completed)
    {
      expect = MSRP_REASSEMBLY_DUPLICATE;
    }
  else if (slot->pc.flag == '#')
    {
      /* Section 7.1: aborted, even if every byte is there. */
      expect = MSRP_REASSEMBLY_INTERRUPTED;
    }
  else
    {
      if (slot->pc.flag == '$')
        m->total_known = TRUE;
      if (m->total_known && m->n_have == m->len)
        expect = MSRP_REASSEMBLY_COMPLETE;
      else
        expect = MSRP_REASSEMBLY_PENDING;
    }
  REQUIRE (res == expect,
           "%s: chunk %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
           " '%c': result %d, expected %d",
           m->id, slot->pc.a, slot->pc.b, slot->pc.flag, res, expect);
  if (res == MSRP_REASSEMBLY_DUPLICATE)
    {
      REQUIRE (prog.received == 0 && prog.total == 0 && !prog.total_known,
               "%s: progress of a duplicate", m->id);
    }
  else
    {
      /* What the chunk's end reported, against the model. */
      REQUIRE (prog.received == m->n_have,
               "%s: %" G_GUINT64_FORMAT " received, model %" G_GUINT64_FORMAT,
               m->id, prog.received, m->n_have);
      REQUIRE (prog.total_known == m->total_known, "%s: total known %d", m->id,
               prog.total_known);
      REQUIRE (prog.total == (m->total_known ? m->len : 0),
               "%s: total %" G_GUINT64_FORMAT, m->id, prog.total);
    }
  if (res == MSRP_REASSEMBLY_COMPLETE)
    {
      ck_assert_uint_eq (g_bytes_get_size (body), m->len);
      ck_assert (m->len == 0 ||
                 memcmp (g_bytes_get_data (body, NULL), m->body, m->len) == 0);
      ck_assert_str_eq (ct, "a/b");
      REQUIRE (!pending, "%s pending after completion", m->id);
      m->completed = TRUE;
    }
  else if (res == MSRP_REASSEMBLY_INTERRUPTED)
    {
      REQUIRE (!pending, "%s pending after the abort", m->id);
      REQUIRE (body == NULL && ct == NULL, "%s: body of an aborted message",
               m->id);
      m->aborted = TRUE;
    }
  else if (res == MSRP_REASSEMBLY_PENDING)
    {
      REQUIRE (pending, "%s not pending", m->id);
      REQUIRE (received == m->n_have && known == m->total_known &&
                   total == prog.total,
               "%s: progress %" G_GUINT64_FORMAT
               " differs from the chunk's end",
               m->id, received);
    }
  slot->msg = NULL;
}

START_TEST (test_random)
{
  GRand *g = g_rand_new_with_seed (0x5eed0000u + (guint32) _i);
  g_autoptr (MsrpReassembler) r = msrp_reassembler_new (R_CEILING);
  RMsg msgs[R_MSGS];
  RSlot slots[R_SLOTS] = { { 0 } };
  int n_msgs = g_rand_int_range (g, 1, R_MSGS + 1);

  /* Fully shuffled tiny chunks leave thousands of gaps: more than the
   * default limit, which the scripted cases test. */
  msrp_reassembler_set_max_ranges (r, 100000);

  for (int i = 0; i < n_msgs; i++)
    {
      guint64 len = (guint64) g_rand_int_range (g, 0, _i % 4 == 0 ? 40 : 9000);
      guint max_chunk =
          _i % 5 == 0 ? 4 : (guint) g_rand_int_range (g, 1, 2600);

      rmsg_init (g, &msgs[i], i, len, max_chunk);
    }

  for (;;)
    {
      int free_slot = -1, busy = 0, waiting = 0;

      for (int s = 0; s < R_SLOTS; s++)
        {
          if (slots[s].chunk != NULL)
            busy++;
          else if (free_slot < 0)
            free_slot = s;
        }
      for (int i = 0; i < n_msgs; i++)
        waiting += msgs[i].next < msgs[i].plan->len;
      if (busy == 0 && waiting == 0)
        break;

      if (free_slot >= 0 && waiting > 0 &&
          (busy == 0 || g_rand_int_range (g, 0, 3) == 0))
        {
          int i;

          do
            i = g_rand_int_range (g, 0, n_msgs);
          while (msgs[i].next >= msgs[i].plan->len);
          rand_begin (r, &slots[free_slot], &msgs[i]);
        }
      else
        {
          int s;

          do
            s = g_rand_int_range (g, 0, R_SLOTS);
          while (slots[s].chunk == NULL);
          if (!slots[s].failed &&
              slots[s].written < slots[s].pc.b + 1 - slots[s].pc.a)
            rand_write (g, &slots[s]);
          else
            rand_end (r, &slots[s]);
        }
      REQUIRE (msrp_reassembler_get_buffered (r) <= R_CEILING,
               "buffered %" G_GSIZE_FORMAT " over the ceiling",
               msrp_reassembler_get_buffered (r));
    }

  for (int i = 0; i < n_msgs; i++)
    {
      /* Exactly one of the two; an abort only where the plan had '#'. */
      ck_assert_msg (msgs[i].completed != msgs[i].aborted,
                     "%s: completed %d, aborted %d", msgs[i].id,
                     msgs[i].completed, msgs[i].aborted);
      ck_assert (!msgs[i].aborted || msgs[i].has_abort);
      rmsg_clear (&msgs[i]);
    }
  ck_assert_uint_eq (msrp_reassembler_get_n_pending (r), 0);
  ck_assert_uint_eq (msrp_reassembler_get_buffered (r), 0);
  g_rand_free (g);
}
END_TEST

static void
piece_guard_teardown (void)
{
  guard_buf_clear (&piece_guard);
}

static Suite *
reassembly_suite (void)
{
  Suite *s = suite_create ("msrp-reassembly");
  TCase *tc;

  tc = tcase_create ("scripted");
  tcase_add_loop_test (tc, test_scripted, 0, (int) G_N_ELEMENTS (cases) * 3);
  suite_add_tcase (s, tc);

  tc = tcase_create ("status");
  tcase_add_loop_test (tc, test_status, 0, (int) G_N_ELEMENTS (status_cases));
  tcase_add_test (tc, test_status_foreign);
  suite_add_tcase (s, tc);

  tc = tcase_create ("table");
  tcase_add_checked_fixture (tc, NULL, piece_guard_teardown);
  tcase_add_test (tc, test_list_and_abandon_all);
  tcase_add_test (tc, test_remembered_ids);
  tcase_add_test (tc, test_remembered_aborted);
  tcase_add_test (tc, test_forgotten_id_reused_then_aborted);
  tcase_add_test (tc, test_reverse_many_chunks);
  suite_add_tcase (s, tc);

  tc = tcase_create ("random");
  tcase_add_checked_fixture (tc, NULL, piece_guard_teardown);
  tcase_add_loop_test (tc, test_random, 0, 400);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (reassembly_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
