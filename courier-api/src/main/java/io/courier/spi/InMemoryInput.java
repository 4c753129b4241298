package io.courier.spi;

import java.nio.ByteBuffer;

/**
 * Implemented by the input streams Courier hands to a {@link Serializer} when the whole body is
 * already in memory (an uncompressed body): a serializer that can read a {@link ByteBuffer} reads
 * {@link #remaining()} instead of copying the stream into an array first. Serializers that do not
 * know this interface read the stream as usual.
 */
public interface InMemoryInput {

  /**
   * The bytes not read yet, as a read-only view (often of direct memory). Reading the view does not
   * move the stream; the view is valid until the serializer's read method returns.
   */
  ByteBuffer remaining();
}
