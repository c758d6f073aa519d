/* replay.c: runs a fuzz target's corpus as an ordinary test, so that CI
 * without clang/libFuzzer still exercises every input the fuzzers found.
 * Usage: replay-NAME DIR|FILE...   Each regular file is one input. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *data;
  long size;

  if (f == NULL)
    {
      perror (path);
      return -1;
    }
  if (fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) < 0 ||
      fseek (f, 0, SEEK_SET) != 0)
    {
      perror (path);
      fclose (f);
      return -1;
    }
  data = malloc (size > 0 ? (size_t) size : 1);
  if (data == NULL || fread (data, 1, (size_t) size, f) != (size_t) size)
    {
      fprintf (stderr, "%s: read failed\n", path);
      free (data);
      fclose (f);
      return -1;
    }
  fclose (f);
  LLVMFuzzerTestOneInput (data, (size_t) size);
  free (data);
  return 0;
}

static int
run_path (const char *path, unsigned *count)
{
  struct stat st;
  DIR *dir;
  struct dirent *ent;
  int rc = 0;

  if (stat (path, &st) != 0)
    {
      perror (path);
      return -1;
    }
  if (!S_ISDIR (st.st_mode))
    {
      (*count)++;
      return run_file (path);
    }
  dir = opendir (path);
  if (dir == NULL)
    {
      perror (path);
      return -1;
    }
  while ((ent = readdir (dir)) != NULL && rc == 0)
    {
      char child[4096];

      if (ent->d_name[0] == '.')
        continue;
      snprintf (child, sizeof child, "%s/%s", path, ent->d_name);
      rc = run_path (child, count);
    }
  closedir (dir);
  return rc;
}

int
main (int argc, char **argv)
{
  unsigned count = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIR|FILE...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    if (run_path (argv[i], &count) != 0)
      return 1;
  if (count == 0)
    {
      fprintf (stderr, "%s: no corpus inputs found\n", argv[0]);
      return 1;
    }
  printf ("replayed %u inputs\n", count);
  return 0;
}
