/* guard.h: test inputs placed against an unreadable guard page, the way
 * picohttpparser's tests do, so that a parser reading one byte past the end
 * of what it was given crashes the test instead of passing by luck. */
#pragma once

#include <stddef.h>

typedef struct
{
  unsigned char *map;  /* start of the mapping */
  size_t map_len;      /* readable pages + the guard page */
  unsigned char *data; /* where the caller's bytes start */
  size_t len;
} GuardBuf;

/* Copy @len bytes of @src so that the last one sits right before a PROT_NONE
 * page.  Aborts the test on mmap failure. */
void guard_buf_init (GuardBuf *buf, const void *src, size_t len);
void guard_buf_clear (GuardBuf *buf);

/* Split modes every streaming parser case runs through. */
typedef enum
{
  SPLIT_WHOLE,    /* one feed */
  SPLIT_BYTEWISE, /* one byte a feed */
  SPLIT_AT,       /* two feeds, split at position @at */
} SplitMode;

/* Call @feed for each piece of @input in the given mode; every piece is
 * placed against its own guard page.  @feed returns 0 to go on, non-zero to
 * stop (error reached), which is returned. */
typedef int (*GuardFeedFunc) (const unsigned char *piece, size_t len,
                              void *user_data);
int guard_feed (const void *input, size_t len, SplitMode mode, size_t at,
                GuardFeedFunc feed, void *user_data);
