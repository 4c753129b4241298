package io.courier.bench.grpc;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * A message already in protobuf wire format, as a short head (tags and lengths, or the whole of a
 * small message) followed by a body that is not copied (the payload of an echo). gRPC asks its
 * length first ({@link KnownLength}) and then has it write itself straight into the frame's
 * buffer ({@link Drainable}), the same path protobuf's own marshaller takes, so no intermediate
 * copy or 8 KiB transfer buffer is spent per message.
 */
final class EncodedMessage extends InputStream implements Drainable, KnownLength {

  private static final byte[] NONE = new byte[0];

  private final byte[] head;
  private final byte[] body;
  private int position;

  EncodedMessage(byte[] head, byte[] body) {
    this.head = head;
    this.body = body;
  }

  /** A message that is all head. */
  EncodedMessage(byte[] whole) {
    this(whole, NONE);
  }

  private int size() {
    return head.length + body.length;
  }

  @Override
  public int available() {
    return size() - position;
  }

  @Override
  public int read() {
    if (position >= size()) {
      return -1;
    }
    int p = position++;
    return (p < head.length ? head[p] : body[p - head.length]) & 0xFF;
  }

  @Override
  public int read(byte[] into, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, into.length);
    if (length == 0) {
      return 0;
    }
    if (position >= size()) {
      return -1;
    }
    int done = 0;
    if (position < head.length) {
      int n = Math.min(length, head.length - position);
      System.arraycopy(head, position, into, offset, n);
      position += n;
      done = n;
    }
    if (done < length && position < size()) {
      int n = Math.min(length - done, size() - position);
      System.arraycopy(body, position - head.length, into, offset + done, n);
      position += n;
      done += n;
    }
    return done;
  }

  @Override
  public int drainTo(OutputStream target) throws IOException {
    int n = available();
    if (position < head.length) {
      target.write(head, position, head.length - position);
      target.write(body);
    } else {
      target.write(body, position - head.length, size() - position);
    }
    position = size();
    return n;
  }
}
