/* ice/ice-stream.h (private to ice/): the GIOStream an IceLeg hands out.
 *
 * It wraps libnice's own I/O stream for the selected pair and puts first, in
 * front of its input, the bytes the leg read before the pair was ready (the
 * leg keeps the agent's sockets read during the checks, and the peer may
 * start sending the moment its side is ready, in the same TCP segment as
 * its last STUN response). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ICE_TYPE_STREAM (ice_stream_get_type ())
G_DECLARE_FINAL_TYPE (IceStream, ice_stream, ICE, STREAM, GIOStream)

/* @nice_stream: (transfer none) libnice's stream (its input and output are
 * pollable); @early: (transfer none) (nullable) bytes to read first. */
G_GNUC_WARN_UNUSED_RESULT
GIOStream *ice_stream_new (GIOStream *nice_stream, GBytes *early);

G_END_DECLS
