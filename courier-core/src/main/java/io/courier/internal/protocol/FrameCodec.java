package io.courier.internal.protocol;

import io.courier.ErrorReason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Reads and writes Courier frames. Stateless; the transport's decoder calls
 * {@link #decode(ByteBuf, FrameLimits)} with its cumulation buffer.
 */
public final class FrameCodec {

  private FrameCodec() {}

  /**
   * Decodes one frame from {@code in} if it is complete, advancing the reader index past it;
   * returns {@code null} (reader index untouched) when more bytes are needed. Limits are checked
   * from the fixed header, so an oversize frame is refused before its body is buffered.
   *
   * @throws ProtocolException when the bytes are not a valid frame
   */
  public static InboundFrame decode(ByteBuf in, FrameLimits limits) throws ProtocolException {
    int start = in.readerIndex();
    int readable = in.readableBytes();
    if (readable >= 1 && in.getUnsignedByte(start) != (Frame.MAGIC >>> 8)
        || readable >= 2 && in.getUnsignedShort(start) != Frame.MAGIC) {
      throw new ProtocolException(ErrorReason.PROTOCOL_ERROR, 0,
          "not a Courier frame: bad magic (expected 0xC01E); is this a Courier port?");
    }
    if (readable < Frame.HEADER_LENGTH) {
      return null;
    }
    int version = in.getUnsignedByte(start + Frame.OFF_VERSION);
    int requestId = in.getInt(start + Frame.OFF_REQUEST_ID);
    if (version != Frame.VERSION) {
      throw new ProtocolException(ErrorReason.PROTOCOL_ERROR, 0, "unsupported protocol version "
          + version + " (supported: " + Frame.VERSION + ")");
    }
    int flags = in.getUnsignedByte(start + Frame.OFF_FLAGS);
    if ((flags & ~Frame.KNOWN_FLAGS) != 0) {
      throw new ProtocolException(ErrorReason.PROTOCOL_ERROR, requestId,
          "reserved flag bits set: 0x" + Integer.toHexString(flags));
    }
    if (in.getByte(start + Frame.OFF_RESERVED) != 0) {
      throw new ProtocolException(ErrorReason.PROTOCOL_ERROR, requestId,
          "reserved header byte is not zero");
    }
    int metaLength = in.getUnsignedShort(start + Frame.OFF_METADATA_LENGTH);
    long bodyLength = in.getUnsignedInt(start + Frame.OFF_BODY_LENGTH);
    long total = Frame.HEADER_LENGTH + metaLength + bodyLength;
    boolean response = (flags & Frame.FLAG_RESPONSE) != 0;
    if (metaLength > limits.maxMetadataBytes()) {
      throw new ProtocolException(ErrorReason.PAYLOAD_TOO_LARGE, requestId, "metadata of "
          + metaLength + " bytes exceeds the limit of " + limits.maxMetadataBytes() + " bytes",
          total, response);
    }
    if (bodyLength > limits.maxBodyBytes()) {
      throw new ProtocolException(ErrorReason.PAYLOAD_TOO_LARGE, requestId, "frame body of "
          + bodyLength + " bytes exceeds the limit of " + limits.maxBodyBytes() + " bytes",
          total, response);
    }
    if (readable < total) {
      return null;
    }
    long arrival = System.nanoTime();
    int serializerId = in.getUnsignedByte(start + Frame.OFF_SERIALIZER);
    int compressorId = in.getUnsignedByte(start + Frame.OFF_COMPRESSOR);
    int status = in.getUnsignedByte(start + Frame.OFF_STATUS);
    int wordA = in.getInt(start + Frame.OFF_WORD_A);
    int wordB = in.getInt(start + Frame.OFF_WORD_B);
    in.skipBytes(Frame.HEADER_LENGTH);
    ByteBuf meta = in.readRetainedSlice(metaLength);
    ByteBuf body;
    try {
      body = in.readRetainedSlice((int) bodyLength);
    } catch (RuntimeException e) {
      meta.release();
      throw e;
    }
    return new InboundFrame(flags, serializerId, compressorId, status, requestId, wordA, wordB,
        meta, body, arrival);
  }

  /**
   * Starts a frame in a new buffer: writes the fixed header with zero lengths and leaves the writer
   * index after it. Write metadata and body next, then call {@link #finish}.
   */
  public static ByteBuf start(ByteBufAllocator alloc, int initialCapacity, int flags,
      int serializerId, int compressorId, int status, int requestId, int wordA, int wordB) {
    ByteBuf buf = alloc.directBuffer(Math.max(initialCapacity, Frame.HEADER_LENGTH));
    writeHeader(buf, flags, serializerId, compressorId, status, requestId, wordA, wordB);
    return buf;
  }

  /** Writes a fixed header with zero lengths at the writer index. */
  public static void writeHeader(ByteBuf buf, int flags, int serializerId, int compressorId,
      int status, int requestId, int wordA, int wordB) {
    buf.writeShort(Frame.MAGIC);
    buf.writeByte(Frame.VERSION);
    buf.writeByte(flags);
    buf.writeByte(serializerId);
    buf.writeByte(compressorId);
    buf.writeByte(status);
    buf.writeByte(0);
    buf.writeInt(requestId);
    buf.writeInt(wordA);
    buf.writeInt(wordB);
    buf.writeShort(0);
    buf.writeInt(0);
  }

  /**
   * Fills in the lengths of a frame started at {@code frameStart}: metadata is
   * {@code metadataLength} bytes right after the header, the body is everything after it.
   */
  public static void finish(ByteBuf buf, int frameStart, int metadataLength) {
    int bodyLength = buf.writerIndex() - frameStart - Frame.HEADER_LENGTH - metadataLength;
    buf.setShort(frameStart + Frame.OFF_METADATA_LENGTH, metadataLength);
    buf.setInt(frameStart + Frame.OFF_BODY_LENGTH, bodyLength);
  }

  /** A body-less frame (heartbeat, cancel). */
  public static ByteBuf control(ByteBufAllocator alloc, int flags, int requestId) {
    ByteBuf buf = alloc.directBuffer(Frame.HEADER_LENGTH);
    writeHeader(buf, flags, 0, 0, 0, requestId, 0, 0);
    return buf;
  }

  /** A frame whose body is an error body (see {@link ErrorBody}). */
  public static ByteBuf error(ByteBufAllocator alloc, int flags, int requestId, ErrorReason reason,
      String description) {
    ByteBuf buf = alloc.directBuffer(64 + (description == null ? 0 : description.length() * 3));
    writeHeader(buf, flags, 0, 0, reason.code().value(), requestId, 0, 0);
    ErrorBody.write(buf, reason, description, null, null);
    finish(buf, 0, 0);
    return buf;
  }
}
