/* fuzz-reassembly.c: libFuzzer target for msrp/msrp-reassembly.c.
 *
 * The input is a program of operations on one reassembler with a small
 * ceiling: open chunks of four Message-IDs in four slots with arbitrary
 * Byte-Ranges (small, huge and edge values), feed them body bytes, end them
 * with '$', '+' or '#', free them without an end-line, abandon messages and
 * change the limits.  After every operation it checks what the public API
 * promises:
 *
 * - every failure comes with an error of status 400 or 413, every success
 *   without one;
 * - memory: buffered <= the ceiling, and the distinct bytes of all pending
 *   messages fit in what is buffered;
 * - results agree with the flag and the progress reported: '#' always gives
 *   INTERRUPTED (or FAILED/DUPLICATE) and removes the message; an aborted
 *   Message-ID is refused with GONE from then on (RFC 4975 section 7.1);
 *   COMPLETE hands out exactly the total; PENDING matches
 *   msrp_reassembler_get_progress();
 * - chunks still open of a message aborted with '#' or abandoned fail with
 *   GONE (or the error they had already failed with); a chunk opened as a
 *   late duplicate of a completed message ends DUPLICATE (or with its own
 *   error);
 * - at the end, with every chunk freed and every message abandoned, nothing
 *   is buffered (or, for odd-sized inputs, the reassembler is dropped with
 *   messages pending, which must not leak).
 *
 * A "churn" operation completes or aborts one-byte messages under fresh
 * Message-IDs, so that old ids leave the bounded list of remembered ids.
 * An aborted id is therefore only known to be refused while fewer than
 * MSRP_REASSEMBLY_REMEMBERED_IDS ids can have been remembered after it;
 * since no operation remembers more than one id (churn: one per message),
 * the harness counts them and asserts within that window only.
 *
 * Once forgotten, an id starts a new message (msrp-reassembly.h), so one id
 * can name several messages over time, and a chunk opened under an id
 * belongs to the message the id named then, not to a later one: a '#' or an
 * abandon only fails the open chunks of the message it ends.  The harness
 * numbers messages (a generation per begin that created one) and records
 * in each slot the message its chunk belongs to.
 *
 * Op byte: bits 0-2 kind, bits 3-4 slot, bits 5-7 arguments. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "msrp-reassembly.h"

#define CEIL 4096
#define N_SLOTS 4
#define N_IDS 4

static const char *const ids[N_IDS] = { "idA1", "idB2", "idC3", "idD4" };
/* Refused as malformed: empty, and one longer than the maximum. */
static const char *const bad_ids[2] = { "",
                                        "0123456789abcdef0123456789abcdefX" };
static const char *const cts[4] = { NULL, "text/plain", "TEXT/Plain",
                                    "image/png" };

typedef struct
{
  const uint8_t *p;
  size_t n;
} Input;

/* Big-endian value of up to @bytes bytes; missing bytes read as 0. */
static guint64
take (Input *in, int bytes)
{
  guint64 v = 0;

  for (int i = 0; i < bytes; i++)
    {
      v <<= 8;
      if (in->n > 0)
        {
          v |= *in->p++;
          in->n--;
        }
    }
  return v;
}

/* A Byte-Range value: small, exact, around the ceiling or huge. */
static guint64
position (unsigned sel, guint64 raw)
{
  switch (sel & 7)
    {
    case 0:
      return raw % 64;
    case 1:
      return raw % 5000;
    case 2:
      return G_MAXUINT64 - raw % 4;
    case 3:
      return (guint64) G_MAXINT64 - 2 + raw % 4;
    case 4:
      return raw;
    case 5:
      return raw % 8;
    case 6:
      return 1 + raw % 16;
    default:
      return CEIL - 2 + raw % 5;
    }
}

typedef struct
{
  MsrpReassembler *r;
  MsrpReassemblyChunk *slots[N_SLOTS];
  int slot_id[N_SLOTS];
  gboolean slot_failed[N_SLOTS]; /* add_data failed: later calls
                                  * repeat that error's code */
  guint slot_msg[N_SLOTS];       /* generation of the chunk's message; 0: a
                                  * late duplicate of a completed message */
  gboolean slot_gone[N_SLOTS];   /* its message was aborted or abandoned
                                  * while it was open */
  guint cur_msg[N_IDS];          /* generation of the id's pending message */
  guint n_msgs;                  /* generations handed out */
  gboolean aborted[N_IDS];       /* a '#' chunk of it ended ... */
  guint64 aborted_at[N_IDS];     /* ... when this many ids could have been
                                  * remembered */
  guint64 n_remembered;          /* bound on ids remembered so far */
  guint churn;                   /* fresh ids made so far */
} State;

/* Is @id aborted and surely still remembered as such? */
static gboolean
known_aborted (const State *st, int id)
{
  return st->aborted[id] && st->n_remembered - st->aborted_at[id] <
                                MSRP_REASSEMBLY_REMEMBERED_IDS;
}

static void
set_aborted (State *st, int id)
{
  st->aborted[id] = TRUE;
  st->aborted_at[id] = st->n_remembered;
}

/* The message of generation @msg left the table by '#' or abandon: its
 * open chunks are gone. */
static void
mark_gone (State *st, guint msg)
{
  g_assert (msg != 0);
  for (int s = 0; s < N_SLOTS; s++)
    if (st->slots[s] != NULL && st->slot_msg[s] == msg)
      st->slot_gone[s] = TRUE;
}

static void
check_error (const GError *error)
{
  guint status;

  g_assert (error != NULL);
  g_assert (error->message != NULL);
  status = msrp_reassembly_error_to_status (error);
  g_assert (status == 400 || status == 413);
}

static void
op_begin (State *st, int s, unsigned args, Input *in)
{
  guint64 sel = take (in, 2);
  int id = (int) (sel & 3);
  gboolean bad_id = (sel & 0x2000) != 0;
  MsrpByteRange br = { 0 };
  GError *error = NULL;
  gboolean was_pending;

  br.start = position ((unsigned) (sel >> 4), take (in, 2));
  br.end = position ((unsigned) (sel >> 7), take (in, 2));
  br.total = position ((unsigned) (sel >> 10), take (in, 2));
  br.end_unknown = (args & 2) != 0;
  br.total_unknown = (args & 4) != 0;

  g_clear_pointer (&st->slots[s], msrp_reassembly_chunk_free);
  was_pending =
      msrp_reassembler_get_progress (st->r, ids[id], NULL, NULL, NULL);
  st->slots[s] = msrp_reassembler_begin_chunk (
      st->r, bad_id ? bad_ids[(sel >> 14) & 1] : ids[id],
      (args & 1) ? &br : NULL, cts[(sel >> 2) & 3], &error);
  st->slot_id[s] = id;
  st->slot_failed[s] = FALSE;
  st->slot_gone[s] = FALSE;
  st->slot_msg[s] = 0;
  if (st->slots[s] == NULL)
    {
      check_error (error);
    }
  else
    {
      g_assert (error == NULL);
      g_assert (!bad_id);
      /* The chunk joins the id's pending message, starts a new one, or (the
       * id remembered as completed) is a late duplicate of no message. */
      if (msrp_reassembler_get_progress (st->r, ids[id], NULL, NULL, NULL))
        {
          if (!was_pending)
            st->cur_msg[id] = ++st->n_msgs;
          st->slot_msg[s] = st->cur_msg[id];
        }
      else
        {
          g_assert (!was_pending);
        }
    }
  if (bad_id)
    {
      g_assert (st->slots[s] == NULL);
      g_assert (error->code == MSRP_REASSEMBLY_ERROR_INVALID);
      g_clear_error (&error);
      return;
    }
  /* Section 7.1: no further chunks of an aborted message (a malformed
   * Byte-Range is refused as such first). */
  if (known_aborted (st, id))
    {
      g_assert (st->slots[s] == NULL);
      g_assert (error->code == MSRP_REASSEMBLY_ERROR_GONE ||
                error->code == MSRP_REASSEMBLY_ERROR_INVALID ||
                error->code == MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL);
    }
  g_clear_error (&error);
}

static void
op_data (State *st, int s, unsigned args, Input *in)
{
  static const uint8_t filler[3000];
  size_t len =
      (size_t) take (in, 1) | ((args & 1) ? 256 : 0) | ((args & 2) ? 2048 : 0);
  const uint8_t *src = filler;
  GError *error = NULL;

  /* Body bytes from the input while it lasts, then zeros. */
  if (len <= in->n)
    {
      src = in->p;
      in->p += len;
      in->n -= len;
    }
  if (st->slots[s] == NULL)
    return;
  if (msrp_reassembly_chunk_add_data (st->slots[s], src, len, &error))
    {
      g_assert (error == NULL);
      g_assert (!st->slot_gone[s] && !st->slot_failed[s]);
    }
  else
    {
      check_error (error);
      /* Sections 7.1 and 10.5: its message is gone, stop sending. */
      if (st->slot_gone[s] && !st->slot_failed[s])
        g_assert (error->code == MSRP_REASSEMBLY_ERROR_GONE);
      st->slot_failed[s] = TRUE;
    }
  g_clear_error (&error);
}

static void
op_end (State *st, int s, unsigned args)
{
  static const char flags[4] = { '$', '+', '#', '+' };
  char flag = flags[args & 3];
  gboolean outs = (args & 4) == 0;
  const char *id;
  GBytes *body = NULL;
  char *ct = NULL;
  MsrpReassemblyProgress prog;
  GError *error = NULL;
  MsrpReassemblyResult res;
  guint64 received = 0, total = 0;
  gboolean known = FALSE, pending;

  if (st->slots[s] == NULL)
    return;
  id = ids[st->slot_id[s]];
  memset (&prog, 0xa5, sizeof prog);
  res = msrp_reassembly_chunk_end (g_steal_pointer (&st->slots[s]), flag,
                                   outs ? &body : NULL, outs ? &ct : NULL,
                                   outs ? &prog : NULL, &error);
  pending =
      msrp_reassembler_get_progress (st->r, id, &received, &total, &known);
  if (res == MSRP_REASSEMBLY_FAILED)
    check_error (error);
  else
    g_assert (error == NULL);
  /* A chunk open across its message's abort or abandon fails; a failed
   * chunk fails again. */
  if (st->slot_gone[s])
    g_assert (
        res == MSRP_REASSEMBLY_FAILED &&
        (st->slot_failed[s] || error->code == MSRP_REASSEMBLY_ERROR_GONE));
  if (st->slot_failed[s])
    g_assert (res == MSRP_REASSEMBLY_FAILED);
  /* A late duplicate stays one, whatever became of its id since. */
  if (st->slot_msg[s] == 0 && !st->slot_failed[s])
    g_assert (res == MSRP_REASSEMBLY_DUPLICATE);
  g_clear_error (&error);

  /* '#' never leaves the message pending nor delivers it. */
  if (flag == '#')
    g_assert (res == MSRP_REASSEMBLY_INTERRUPTED ||
              res == MSRP_REASSEMBLY_FAILED ||
              res == MSRP_REASSEMBLY_DUPLICATE);
  else
    g_assert (res != MSRP_REASSEMBLY_INTERRUPTED);

  if (!outs)
    goto done;
  g_assert ((res == MSRP_REASSEMBLY_COMPLETE) == (body != NULL));
  g_assert (res == MSRP_REASSEMBLY_COMPLETE || ct == NULL);
  switch (res)
    {
    case MSRP_REASSEMBLY_COMPLETE:
      g_assert (!pending);
      g_assert (g_bytes_get_size (body) <= CEIL);
      g_assert (prog.total_known);
      g_assert (prog.total == g_bytes_get_size (body));
      g_assert (prog.received == prog.total);
      g_assert (ct == NULL || g_ascii_strcasecmp (ct, "text/plain") == 0 ||
                strcmp (ct, "image/png") == 0);
      break;
    case MSRP_REASSEMBLY_INTERRUPTED:
      g_assert (!pending);
      g_assert (prog.received <= CEIL);
      g_assert (!prog.total_known || prog.received <= prog.total);
      g_assert (prog.total_known || prog.total == 0);
      break;
    case MSRP_REASSEMBLY_PENDING:
      g_assert (pending);
      g_assert (prog.received == received && prog.total == total &&
                prog.total_known == known);
      g_assert (!known || received < total);
      break;
    case MSRP_REASSEMBLY_FAILED:
    case MSRP_REASSEMBLY_DUPLICATE:
    default:
      g_assert (prog.received == 0 && prog.total == 0 && !prog.total_known);
      break;
    }
done:
  if (res == MSRP_REASSEMBLY_INTERRUPTED)
    {
      set_aborted (st, st->slot_id[s]);
      mark_gone (st, st->slot_msg[s]);
    }
  g_clear_pointer (&body, g_bytes_unref);
  g_free (ct);
}

static void
op_limits (State *st, unsigned args, Input *in)
{
  if (args & 1)
    msrp_reassembler_set_max_message_size (st->r, take (in, 2));
  else
    msrp_reassembler_set_max_ranges (st->r, 1 + (guint) take (in, 1) % 8);
  msrp_reassembler_set_max_messages (st->r, 1 + (args >> 1));
}

/* Complete or abort @n one-byte messages under fresh ids. */
static void
op_churn (State *st, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    {
      char id[16];
      char flag = (st->churn & 1) ? '#' : '$';
      MsrpReassemblyChunk *c;
      MsrpReassemblyResult res;
      GError *error = NULL;

      g_snprintf (id, sizeof id, "churn%u", st->churn++);
      st->n_remembered++;
      c = msrp_reassembler_begin_chunk (st->r, id, NULL, NULL, &error);
      if (c == NULL)
        {
          /* The table is full or the ceiling reached. */
          check_error (error);
          g_clear_error (&error);
          continue;
        }
      if (!msrp_reassembly_chunk_add_data (c, "x", 1, &error))
        {
          check_error (error);
          g_clear_error (&error);
        }
      res = msrp_reassembly_chunk_end (c, flag, NULL, NULL, NULL, &error);
      if (res == MSRP_REASSEMBLY_FAILED)
        check_error (error);
      else
        g_assert (res == (flag == '#' ? MSRP_REASSEMBLY_INTERRUPTED
                                      : MSRP_REASSEMBLY_COMPLETE));
      g_clear_error (&error);
      g_assert (!msrp_reassembler_get_progress (st->r, id, NULL, NULL, NULL));
    }
}

/* Memory and table invariants, after every operation. */
static void
check_state (State *st)
{
  gsize buffered = msrp_reassembler_get_buffered (st->r);
  GPtrArray *pending = msrp_reassembler_list_pending (st->r);
  guint64 sum = 0;

  g_assert (buffered <= CEIL);
  g_assert (pending->len == msrp_reassembler_get_n_pending (st->r));
  g_assert (pending->len <= N_IDS);
  for (guint i = 0; i < pending->len; i++)
    {
      guint64 received = 0, total = 0;
      gboolean known = FALSE;

      g_assert (msrp_reassembler_get_progress (
          st->r, g_ptr_array_index (pending, i), &received, &total, &known));
      g_assert (!known || received <= total);
      sum += received;
    }
  for (int id = 0; id < N_IDS; id++)
    g_assert (
        !known_aborted (st, id) ||
        !msrp_reassembler_get_progress (st->r, ids[id], NULL, NULL, NULL));
  /* Every byte received is stored, and storage is charged. */
  g_assert (sum <= buffered);
  g_ptr_array_unref (pending);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  State st = { 0 };
  Input in = { data, size };

  st.r = msrp_reassembler_new (CEIL);
  while (in.n > 0)
    {
      unsigned op = (unsigned) take (&in, 1);
      int s = (int) ((op >> 3) & 3);
      unsigned args = op >> 5;

      /* At most one id is remembered per operation (churn counts its
       * own). */
      st.n_remembered++;
      switch (op & 7)
        {
        case 0:
        case 6:
          op_begin (&st, s, args, &in);
          break;
        case 1:
          op_data (&st, s, args, &in);
          break;
        case 7:
          op_churn (&st, 1 + args);
          break;
        case 2:
          op_end (&st, s, args);
          break;
        case 3:
          g_clear_pointer (&st.slots[s], msrp_reassembly_chunk_free);
          break;
        case 4:
          {
            guint64 received = 1;
            int id = (int) (args & 3);
            gboolean found =
                msrp_reassembler_abandon (st.r, ids[id], &received);

            g_assert (found || received == 0);
            g_assert (!found || !known_aborted (&st, id));
            if (found)
              mark_gone (&st, st.cur_msg[id]);
            break;
          }
        default:
          op_limits (&st, args, &in);
          break;
        }
      check_state (&st);
    }

  for (int s = 0; s < N_SLOTS; s++)
    msrp_reassembly_chunk_free (st.slots[s]);
  if (size % 2 == 1)
    {
      /* Dropped with messages pending: they are freed with it. */
      msrp_reassembler_unref (st.r);
      return 0;
    }
  {
    GPtrArray *pending = msrp_reassembler_list_pending (st.r);

    for (guint i = 0; i < pending->len; i++)
      g_assert (msrp_reassembler_abandon (st.r, g_ptr_array_index (pending, i),
                                          NULL));
    g_ptr_array_unref (pending);
  }
  g_assert (msrp_reassembler_get_n_pending (st.r) == 0);
  g_assert (msrp_reassembler_get_buffered (st.r) == 0);
  msrp_reassembler_unref (st.r);
  return 0;
}
