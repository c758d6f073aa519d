#include "guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void
guard_buf_init (GuardBuf *buf, const void *src, size_t len)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  size_t data_pages = (len + page - 1) / page;

  if (data_pages == 0)
    data_pages = 1;
  buf->map_len = (data_pages + 1) * page;
  buf->map = mmap (NULL, buf->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf->map == MAP_FAILED)
    {
      perror ("guard_buf_init: mmap");
      abort ();
    }
  if (mprotect (buf->map + data_pages * page, page, PROT_NONE) != 0)
    {
      perror ("guard_buf_init: mprotect");
      abort ();
    }
  buf->data = buf->map + data_pages * page - len;
  buf->len = len;
  if (len > 0)
    memcpy (buf->data, src, len);
}

void
guard_buf_clear (GuardBuf *buf)
{
  if (buf->map != NULL)
    munmap (buf->map, buf->map_len);
  memset (buf, 0, sizeof *buf);
}

static int
feed_piece (const unsigned char *src, size_t len, GuardFeedFunc feed,
            void *user_data)
{
  GuardBuf buf;
  int rc;

  guard_buf_init (&buf, src, len);
  rc = feed (buf.data, buf.len, user_data);
  guard_buf_clear (&buf);
  return rc;
}

int
guard_feed (const void *input, size_t len, SplitMode mode, size_t at,
            GuardFeedFunc feed, void *user_data)
{
  const unsigned char *in = input;
  int rc = 0;

  switch (mode)
    {
    case SPLIT_WHOLE:
      return feed_piece (in, len, feed, user_data);
    case SPLIT_BYTEWISE:
      for (size_t i = 0; i < len && rc == 0; i++)
        rc = feed_piece (in + i, 1, feed, user_data);
      return rc;
    case SPLIT_AT:
      if (at > len)
        at = len;
      rc = feed_piece (in, at, feed, user_data);
      if (rc == 0)
        rc = feed_piece (in + at, len - at, feed, user_data);
      return rc;
    }
  abort ();
}
