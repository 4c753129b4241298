package io.courier.spi;

import java.nio.ByteBuffer;

/**
 * Implemented by the output streams Courier hands to a {@link Serializer} when the body is written
 * into a buffer Courier owns: a serializer that can write into a {@link ByteBuffer} and knows
 * roughly how large its output will be writes in place, instead of building the bytes in a buffer
 * of its own and copying them into the stream. Serializers that do not know this interface write
 * the stream as usual.
 */
public interface InMemoryOutput {

  /**
   * Room for at least {@code minBytes} more bytes at the stream's position, as a view whose
   * position 0 is that position (often direct memory). Writing into the view does not move the
   * stream: {@link #commit} does. The view is valid until the next call on the stream.
   *
   * @throws IllegalArgumentException if {@code minBytes} is negative
   */
  ByteBuffer reserve(int minBytes);

  /**
   * Moves the stream past the first {@code bytes} bytes written into the last view that
   * {@link #reserve} returned.
   *
   * @throws IllegalArgumentException if {@code bytes} is negative or beyond that view
   */
  void commit(int bytes);
}
