/* fuzz-uri.c: libFuzzer target for msrp/msrp-uri.c.
 *
 * The input is parsed as one MSRP URI and as a URI list.  Whatever parses
 * must write a canonical text that parses again to an equal URI with the
 * same canonical text, keep the text it was given, and rebuild from its
 * parts with msrp_uri_new () to an equal URI.  Whatever does not parse must
 * say why.  Any broken property aborts. */
#include "msrp-uri.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

static void
check_error (GError *error)
{
  CHECK (error != NULL);
  CHECK (error->domain == MSRP_URI_ERROR);
  CHECK (error->message != NULL && error->message[0] != '\0');
  for (const char *p = error->message; *p != '\0'; p++)
    CHECK (*p >= 0x20 && *p < 0x7f);
}

static void
check_uri (const MsrpUri *uri)
{
  const char *canonical = msrp_uri_to_string (uri);
  GError *error = NULL;
  MsrpUri *again, *rebuilt;

  CHECK (strlen (canonical) <= MSRP_URI_MAX_LEN);
  again = msrp_uri_parse (canonical, -1, &error);
  CHECK (again != NULL && error == NULL);
  CHECK (msrp_uri_equal (uri, again) && msrp_uri_equal (again, uri));
  CHECK (strcmp (msrp_uri_to_string (again), canonical) == 0);
  CHECK (g_strcmp0 (msrp_uri_get_userinfo (again),
                    msrp_uri_get_userinfo (uri)) == 0);
  CHECK (msrp_uri_get_n_params (again) == msrp_uri_get_n_params (uri));
  msrp_uri_unref (again);

  CHECK (msrp_uri_get_effective_port (uri) != 0);
  if (msrp_uri_get_host_type (uri) != MSRP_HOST_NAME)
    CHECK (msrp_uri_get_port (uri) != 0);

  rebuilt = msrp_uri_new (
      msrp_uri_get_scheme (uri), msrp_uri_get_userinfo (uri),
      msrp_uri_get_host (uri), msrp_uri_get_port (uri),
      msrp_uri_get_session_id (uri), msrp_uri_get_transport (uri), &error);
  CHECK (rebuilt != NULL && error == NULL);
  CHECK (msrp_uri_equal (uri, rebuilt));
  msrp_uri_unref (rebuilt);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  GError *error = NULL;
  MsrpUri *uri;
  GPtrArray *uris;

  uri = msrp_uri_parse (text, (gssize) size, &error);
  if (uri != NULL)
    {
      CHECK (error == NULL);
      CHECK (strlen (msrp_uri_get_text (uri)) == size);
      CHECK (memcmp (msrp_uri_get_text (uri), text, size) == 0);
      check_uri (uri);
      msrp_uri_unref (uri);
    }
  else
    {
      check_error (error);
      g_clear_error (&error);
    }

  uris = msrp_uri_list_parse (text, (gssize) size, &error);
  if (uris != NULL)
    {
      char *canonical, *joined;
      GPtrArray *again;

      CHECK (error == NULL);
      CHECK (uris->len >= 1 && uris->len <= MSRP_URI_LIST_MAX);
      for (guint i = 0; i < uris->len; i++)
        check_uri (g_ptr_array_index (uris, i));
      joined = msrp_uri_list_to_text (uris);
      CHECK (strlen (joined) == size && memcmp (joined, text, size) == 0);
      g_free (joined);
      canonical = msrp_uri_list_to_string (uris);
      again = msrp_uri_list_parse (canonical, -1, &error);
      CHECK (again != NULL && error == NULL);
      CHECK (again->len == uris->len);
      for (guint i = 0; i < uris->len; i++)
        CHECK (msrp_uri_equal (g_ptr_array_index (uris, i),
                               g_ptr_array_index (again, i)));
      g_ptr_array_unref (again);
      g_free (canonical);
      g_ptr_array_unref (uris);
    }
  else
    {
      check_error (error);
      g_clear_error (&error);
    }
  return 0;
}
