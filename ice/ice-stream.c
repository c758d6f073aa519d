/* ice/ice-stream.c: libnice's I/O stream with the bytes read before the
 * selected pair was ready put back in front of its input. */
#include "ice-stream.h"

#include <string.h>

/* ---- the input stream ---- */

#define ICE_TYPE_INPUT_STREAM (ice_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (IceInputStream, ice_input_stream, ICE, INPUT_STREAM,
                      GInputStream)

struct _IceInputStream
{
  GInputStream parent;
  GInputStream *base; /* libnice's, pollable */
  GBytes *early;      /* (nullable) */
  gsize early_off;
};

static void
ice_input_stream_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (
    IceInputStream, ice_input_stream, G_TYPE_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                           ice_input_stream_pollable_init))

static gsize
early_left (IceInputStream *self)
{
  return self->early != NULL ? g_bytes_get_size (self->early) - self->early_off
                             : 0;
}

/* Copy up to @count early bytes to @buffer; drop the early buffer once it
 * is read. */
static gssize
early_read (IceInputStream *self, void *buffer, gsize count)
{
  gsize n = MIN (count, early_left (self));

  memcpy (buffer,
          (const guint8 *) g_bytes_get_data (self->early, NULL) +
              self->early_off,
          n);
  self->early_off += n;
  if (early_left (self) == 0)
    g_clear_pointer (&self->early, g_bytes_unref);
  return (gssize) n;
}

static gssize
ice_input_stream_read (GInputStream *stream, void *buffer, gsize count,
                       GCancellable *cancellable, GError **error)
{
  IceInputStream *self = ICE_INPUT_STREAM (stream);

  if (count == 0)
    return 0;
  if (early_left (self) > 0)
    return early_read (self, buffer, count);
  return g_input_stream_read (self->base, buffer, count, cancellable, error);
}

static gboolean
ice_input_stream_close (GInputStream *stream, GCancellable *cancellable,
                        GError **error)
{
  IceInputStream *self = ICE_INPUT_STREAM (stream);

  g_clear_pointer (&self->early, g_bytes_unref);
  return g_input_stream_close (self->base, cancellable, error);
}

static gboolean
ice_input_stream_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
ice_input_stream_is_readable (GPollableInputStream *stream)
{
  IceInputStream *self = ICE_INPUT_STREAM (stream);

  return early_left (self) > 0 || g_pollable_input_stream_is_readable (
                                      G_POLLABLE_INPUT_STREAM (self->base));
}

static gssize
ice_input_stream_read_nonblocking (GPollableInputStream *stream, void *buffer,
                                   gsize count, GError **error)
{
  IceInputStream *self = ICE_INPUT_STREAM (stream);

  if (count == 0)
    return 0;
  if (early_left (self) > 0)
    return early_read (self, buffer, count);
  return g_pollable_input_stream_read_nonblocking (
      G_POLLABLE_INPUT_STREAM (self->base), buffer, count, NULL, error);
}

/* The stream's source: ready while early bytes are left, and whenever
 * libnice's own source (a child) is. */
typedef struct
{
  GSource source;
  IceInputStream *stream;
} EarlySource;

static gboolean
early_source_prepare (GSource *source, gint *timeout)
{
  EarlySource *s = (EarlySource *) source;

  *timeout = -1;
  return early_left (s->stream) > 0;
}

static gboolean
early_source_check (GSource *source)
{
  return early_left (((EarlySource *) source)->stream) > 0;
}

static gboolean
early_source_dispatch (GSource *source, GSourceFunc callback,
                       gpointer user_data)
{
  GPollableSourceFunc func = (GPollableSourceFunc) (void (*) (void)) callback;

  if (func == NULL)
    return G_SOURCE_REMOVE;
  return func (G_OBJECT (((EarlySource *) source)->stream), user_data);
}

static void
early_source_finalize (GSource *source)
{
  g_clear_object (&((EarlySource *) source)->stream);
}

static GSourceFuncs early_source_funcs = {
  early_source_prepare,
  early_source_check,
  early_source_dispatch,
  early_source_finalize,
  NULL,
  NULL,
};

/* A child source only makes its parent ready; its own callback does
 * nothing. */
static gboolean
child_ready (GObject *pollable, gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSource *
ice_input_stream_create_source (GPollableInputStream *stream,
                                GCancellable *cancellable)
{
  IceInputStream *self = ICE_INPUT_STREAM (stream);
  GSource *source = g_source_new (&early_source_funcs, sizeof (EarlySource));
  GSource *child = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (self->base), cancellable);

  g_source_set_name (source, "IceInputStream");
  ((EarlySource *) source)->stream = g_object_ref (self);
  g_source_set_callback (child, G_SOURCE_FUNC (child_ready), NULL, NULL);
  g_source_add_child_source (source, child);
  g_source_unref (child);
  return source;
}

static void
ice_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = ice_input_stream_can_poll;
  iface->is_readable = ice_input_stream_is_readable;
  iface->create_source = ice_input_stream_create_source;
  iface->read_nonblocking = ice_input_stream_read_nonblocking;
}

static void
ice_input_stream_finalize (GObject *object)
{
  IceInputStream *self = ICE_INPUT_STREAM (object);

  g_clear_pointer (&self->early, g_bytes_unref);
  g_clear_object (&self->base);
  G_OBJECT_CLASS (ice_input_stream_parent_class)->finalize (object);
}

static void
ice_input_stream_class_init (IceInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = ice_input_stream_finalize;
  input_class->read_fn = ice_input_stream_read;
  input_class->close_fn = ice_input_stream_close;
}

static void
ice_input_stream_init (IceInputStream *self)
{
}

/* ---- the I/O stream ---- */

struct _IceStream
{
  GIOStream parent;
  GIOStream *nice_stream;
  GInputStream *input; /* IceInputStream */
};

G_DEFINE_TYPE (IceStream, ice_stream, G_TYPE_IO_STREAM)

static GInputStream *
ice_stream_get_input_stream (GIOStream *stream)
{
  return ICE_STREAM (stream)->input;
}

static GOutputStream *
ice_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (ICE_STREAM (stream)->nice_stream);
}

static gboolean
ice_stream_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  IceStream *self = ICE_STREAM (stream);
  gboolean ok;

  /* Our input stream's close closes libnice's input; closing libnice's
   * I/O stream then closes its output (and finds its input closed). */
  ok = g_input_stream_close (self->input, cancellable, error);
  if (!g_io_stream_close (self->nice_stream, cancellable, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static void
ice_stream_dispose (GObject *object)
{
  IceStream *self = ICE_STREAM (object);

  /* Closing (as GIOStream's dispose does) needs both streams. */
  if (self->nice_stream != NULL && !g_io_stream_is_closed (G_IO_STREAM (self)))
    g_io_stream_close (G_IO_STREAM (self), NULL, NULL);
  G_OBJECT_CLASS (ice_stream_parent_class)->dispose (object);
  g_clear_object (&self->input);
  g_clear_object (&self->nice_stream);
}

static void
ice_stream_class_init (IceStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->dispose = ice_stream_dispose;
  stream_class->get_input_stream = ice_stream_get_input_stream;
  stream_class->get_output_stream = ice_stream_get_output_stream;
  stream_class->close_fn = ice_stream_close;
}

static void
ice_stream_init (IceStream *self)
{
}

GIOStream *
ice_stream_new (GIOStream *nice_stream, GBytes *early)
{
  IceStream *self;
  IceInputStream *input;

  g_return_val_if_fail (G_IS_IO_STREAM (nice_stream), NULL);

  input = g_object_new (ICE_TYPE_INPUT_STREAM, NULL);
  input->base = g_object_ref (g_io_stream_get_input_stream (nice_stream));
  if (early != NULL && g_bytes_get_size (early) > 0)
    input->early = g_bytes_ref (early);

  self = g_object_new (ICE_TYPE_STREAM, NULL);
  self->nice_stream = g_object_ref (nice_stream);
  self->input = G_INPUT_STREAM (input);
  return G_IO_STREAM (self);
}
