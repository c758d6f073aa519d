/* msrp-reader.c: MSRP frames read off a byte stream as a head, body pieces
 * and an end (RFC 4975 sections 7 and 9).
 *
 * A thin loop over MsrpParser: start line and header events go into an
 * MsrpHead and are not returned; HEADERS_END becomes HEAD, BODY and END pass
 * through.  Where the frame stands (between frames, headers, body) is asked
 * of the parser, never tracked here.
 */
#include "msrp-reader.h"

#include <string.h>

struct _MsrpReader
{
  MsrpParser *parser;

  /* The current frame's head, from its start line; after its END, until the
   * next call (so that the END event's pointer stays good). */
  MsrpHead *head;
  /* The first reason @head is unintelligible, or NULL. */
  GError *head_error;
};

MsrpReader *
msrp_reader_new (const MsrpParserLimits *limits)
{
  MsrpParser *parser;
  MsrpReader *reader;

  parser = msrp_parser_new_full (limits);
  /* The parser has already complained about invalid limits. */
  if (parser == NULL)
    return NULL;

  reader = g_new0 (MsrpReader, 1);
  reader->parser = parser;
  return reader;
}

static void
clear_frame (MsrpReader *reader)
{
  g_clear_pointer (&reader->head, msrp_head_unref);
  g_clear_error (&reader->head_error);
}

void
msrp_reader_free (MsrpReader *reader)
{
  if (reader == NULL)
    return;
  clear_frame (reader);
  msrp_parser_free (reader->parser);
  g_free (reader);
}

MsrpHead *
msrp_reader_get_head (const MsrpReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);

  /* Between frames the head of the frame that ended is still held, for the
   * END event, but is no longer the frame being read. */
  if (msrp_parser_get_phase (reader->parser) == MSRP_PARSER_PHASE_START_LINE)
    return NULL;
  return reader->head;
}

gboolean
msrp_reader_in_body (const MsrpReader *reader)
{
  g_return_val_if_fail (reader != NULL, FALSE);

  return msrp_parser_get_phase (reader->parser) == MSRP_PARSER_PHASE_BODY;
}

gsize
msrp_reader_get_buffer_size (const MsrpReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return msrp_parser_get_buffer_size (reader->parser);
}

/* Where the next header or finish error goes: only the first is kept. */
static GError **
head_error_slot (MsrpReader *reader)
{
  return reader->head_error == NULL ? &reader->head_error : NULL;
}

/* Take one parser event; TRUE when it makes a reader event, in @event. */
static gboolean
take_event (MsrpReader *reader, const MsrpParserEvent *pev,
            MsrpReaderEvent *event)
{
  switch (pev->type)
    {
    case MSRP_PARSER_EVENT_REQUEST:
    case MSRP_PARSER_EVENT_RESPONSE:
      clear_frame (reader);
      reader->head = msrp_head_new_from_event (pev);
      return FALSE;

    case MSRP_PARSER_EVENT_HEADER:
      /* One bad value makes the frame unintelligible (RFC 4975 section
       * 10.2), but the headers after it are still collected: whether a 400
       * is due depends on Failure-Report (section 7.2), which may follow. */
      msrp_head_add_header (reader->head, pev, head_error_slot (reader));
      return FALSE;

    case MSRP_PARSER_EVENT_HEADERS_END:
      /* Called even after a bad value, for has_body; its own complaint (a
       * header the method needs) counts only if it is the first. */
      msrp_head_finish (reader->head, pev->has_body, head_error_slot (reader));
      event->type = MSRP_READER_EVENT_HEAD;
      event->head = reader->head;
      event->head_error = reader->head_error;
      return TRUE;

    case MSRP_PARSER_EVENT_BODY:
      /* Nobody acts on the body of an unintelligible frame: skip it. */
      if (reader->head_error != NULL)
        return FALSE;
      event->type = MSRP_READER_EVENT_BODY;
      event->head = reader->head;
      event->data = pev->data;
      event->data_len = pev->data_len;
      event->held = pev->held;
      return TRUE;

    case MSRP_PARSER_EVENT_END:
      event->type = MSRP_READER_EVENT_END;
      event->head = reader->head;
      event->head_error = reader->head_error;
      event->continuation = pev->continuation;
      event->body_len = pev->body_len;
      return TRUE;

    default:
      g_assert_not_reached ();
      return FALSE;
    }
}

MsrpParseStatus
msrp_reader_feed (MsrpReader *reader, const guint8 *data, gsize len,
                  gsize *consumed, MsrpReaderEvent *event, GError **error)
{
  g_return_val_if_fail (reader != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (data != NULL || len == 0, MSRP_PARSE_ERROR);
  g_return_val_if_fail (consumed != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (event != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, MSRP_PARSE_ERROR);

  *consumed = 0;
  memset (event, 0, sizeof *event);
  /* A frame whose END an earlier call returned is over now. */
  if (msrp_parser_get_phase (reader->parser) == MSRP_PARSER_PHASE_START_LINE)
    clear_frame (reader);

  while (TRUE)
    {
      MsrpParserEvent pev;
      gsize n = 0;
      MsrpParseStatus st;

      st = msrp_parser_feed (reader->parser,
                             data != NULL ? data + *consumed : NULL,
                             len - *consumed, &n, &pev, error);
      *consumed += n;
      if (st != MSRP_PARSE_EVENT)
        return st;
      if (take_event (reader, &pev, event))
        return MSRP_PARSE_EVENT;
    }
}

gboolean
msrp_reader_is_idle (const MsrpReader *reader)
{
  g_return_val_if_fail (reader != NULL, FALSE);
  return reader->head == NULL && msrp_parser_is_idle (reader->parser) &&
         !msrp_parser_has_failed (reader->parser);
}
