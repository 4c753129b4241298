package io.courier.internal.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A decoded frame: the fixed header's fields and retained slices of its metadata and body. Whoever
 * handles it last calls {@link #release()} exactly once.
 */
public final class InboundFrame {

  public final int flags;
  public final int serializerId;
  public final int compressorId;
  public final int status;
  public final int requestId;
  public final int wordA;
  public final int wordB;
  /** When the frame was decoded, {@link System#nanoTime()}. */
  public final long arrivalNanos;
  private ByteBuf metadata;
  private ByteBuf body;

  InboundFrame(int flags, int serializerId, int compressorId, int status, int requestId, int wordA,
      int wordB, ByteBuf metadata, ByteBuf body, long arrivalNanos) {
    this.flags = flags;
    this.serializerId = serializerId;
    this.compressorId = compressorId;
    this.status = status;
    this.requestId = requestId;
    this.wordA = wordA;
    this.wordB = wordB;
    this.metadata = metadata;
    this.body = body;
    this.arrivalNanos = arrivalNanos;
  }

  public boolean has(int flag) {
    return (flags & flag) != 0;
  }

  public boolean isResponse() {
    return (flags & Frame.FLAG_RESPONSE) != 0;
  }

  /** The metadata block (possibly empty); owned by this frame. */
  public ByteBuf metadata() {
    return metadata;
  }

  /** The body (possibly empty); owned by this frame. */
  public ByteBuf body() {
    return body;
  }

  /** Takes the body out of the frame: the caller now owns it and must release it. */
  public ByteBuf takeBody() {
    ByteBuf b = body;
    body = null;
    return b;
  }

  /** Releases the metadata and whatever body has not been taken. Idempotent. */
  public void release() {
    if (metadata != null) {
      metadata.release();
      metadata = null;
    }
    if (body != null) {
      body.release();
      body = null;
    }
  }

  @Override
  public String toString() {
    return "InboundFrame[flags=" + Integer.toHexString(flags) + ", id=" + requestId + ", a=" + wordA
        + ", b=" + wordB + ", ser=" + serializerId + ", comp=" + compressorId + ", status=" + status
        + "]";
  }
}
