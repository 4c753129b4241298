package io.courier.internal.codec;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.spi.ClassRejectedException;
import io.courier.spi.Compressor;
import io.courier.spi.InMemoryInput;
import io.courier.spi.InMemoryOutput;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Writes frame bodies straight into the outgoing buffer (compressing them above a threshold) and
 * opens bodies for reading (decompressing them under a size cap).
 */
public final class Bodies {

  /** Writes a body to a stream. */
  @FunctionalInterface
  public interface BodyWriter {
    void writeTo(OutputStream out) throws IOException;
  }

  private Bodies() {}

  /**
   * Writes a body at {@code frame}'s writer index; if it is at least {@code threshold} bytes and a
   * compressor is given, replaces it with its compressed form.
   *
   * @return the compressor id used: 0 when the body was left uncompressed
   */
  public static int write(ByteBuf frame, BodyWriter writer, Compressor compressor, int threshold)
      throws IOException {
    int start = frame.writerIndex();
    try (BodyOutput out = new BodyOutput(frame)) {
      writer.writeTo(out);
    }
    int length = frame.writerIndex() - start;
    if (compressor == null || length < threshold) {
      return 0;
    }
    ByteBuf compressed = frame.alloc().buffer(Math.max(64, length / 2));
    try {
      try (OutputStream out = compressor.compress(new ByteBufOutputStream(compressed))) {
        frame.getBytes(start, out, length);
      }
      frame.writerIndex(start);
      frame.writeBytes(compressed);
    } finally {
      compressed.release();
    }
    return compressor.id();
  }

  /**
   * Opens a body for reading. The stream does not own {@code body}.
   *
   * @throws RpcException with {@link ErrorReason#COMPRESSOR_UNSUPPORTED} for an unknown compressor
   */
  public static InputStream open(ByteBuf body, int compressorId, int maxDecompressedBytes)
      throws IOException {
    if (compressorId == 0) {
      return new BodyInput(body);
    }
    InputStream in = new ByteBufInputStream(body, false);
    Compressor c = Compressors.byId(compressorId);
    if (c == null) {
      throw new RpcException(ErrorReason.COMPRESSOR_UNSUPPORTED, "compressor id " + compressorId
          + " is not available here (available: " + Compressors.names() + ")");
    }
    return new LimitedInputStream(c.decompress(in), maxDecompressedBytes);
  }

  /**
   * Maps a failure to read a payload to the exception reported for it: the {@link RpcException}
   * it carries (a size cap hit inside a serializer), {@link ErrorReason#SERIALIZATION_REJECTED} for
   * a refused class, else {@code fallback} with the message.
   */
  public static RpcException readFailure(Throwable t, ErrorReason fallback, String what) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RpcException r) {
        return r;
      }
      if (c instanceof ClassRejectedException cr) {
        return new RpcException(ErrorReason.SERIALIZATION_REJECTED, what + ": " + cr.getMessage());
      }
    }
    if (t instanceof StackOverflowError) {
      return new RpcException(fallback, what + ": value nested too deeply");
    }
    return new RpcException(fallback, what + ": " + t.getMessage());
  }

  /** The stream a body is written to; serializers that can take it write into the frame in place. */
  private static final class BodyOutput extends ByteBufOutputStream implements InMemoryOutput {
    private final ByteBuf frame;
    private int reserved = -1;

    BodyOutput(ByteBuf frame) {
      super(frame);
      this.frame = frame;
    }

    @Override
    public ByteBuffer reserve(int minBytes) {
      if (minBytes < 0) {
        throw new IllegalArgumentException("minBytes: " + minBytes + " (expected: >= 0)");
      }
      frame.ensureWritable(minBytes);
      if (frame.nioBufferCount() != 1) {
        reserved = -1;
        return ByteBuffer.allocate(0); // no single view: the serializer falls back to the stream
      }
      reserved = frame.writableBytes();
      return frame.nioBuffer(frame.writerIndex(), reserved);
    }

    @Override
    public void commit(int bytes) {
      if (bytes < 0 || bytes > Math.max(reserved, 0)) {
        throw new IllegalArgumentException(
            "bytes: " + bytes + " (expected: 0 to " + Math.max(reserved, 0) + ")");
      }
      frame.writerIndex(frame.writerIndex() + bytes);
      reserved = -1;
    }
  }

  /** An uncompressed body: a stream, and for serializers that can take it, the bytes in place. */
  private static final class BodyInput extends ByteBufInputStream implements InMemoryInput {
    private final ByteBuf body;

    BodyInput(ByteBuf body) {
      super(body, false);
      this.body = body;
    }

    @Override
    public ByteBuffer remaining() {
      return body.nioBufferCount() == 1
          ? body.nioBuffer(body.readerIndex(), body.readableBytes()).asReadOnlyBuffer()
          : ByteBuffer.wrap(ByteBufUtil.getBytes(body)).asReadOnlyBuffer();
    }
  }
}
