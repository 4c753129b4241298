package io.courier.internal.codec;

import io.courier.ErrorReason;
import io.courier.RpcException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Caps how many bytes may be read from a decompressing stream: reading past the cap throws
 * {@link RpcException} with {@link ErrorReason#PAYLOAD_TOO_LARGE}, so a decompression bomb stops at
 * the limit instead of filling the heap. Not thread-safe.
 */
public final class LimitedInputStream extends FilterInputStream {

  private final long limit;
  private long count;

  public LimitedInputStream(InputStream in, long limit) {
    super(in);
    this.limit = limit;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      count(1);
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0) {
      count(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long s = super.skip(n);
    count(s);
    return s;
  }

  private void count(long n) {
    count += n;
    if (count > limit) {
      throw new RpcException(ErrorReason.PAYLOAD_TOO_LARGE,
          "decompressed body exceeds the limit of " + limit + " bytes");
    }
  }

  /**
   * 0: a decompressing stream cannot know how much remains, and some decompressors answer
   * wrongly or fail when asked; readers must read to the end.
   */
  @Override
  public int available() {
    return 0;
  }

  @Override
  public boolean markSupported() {
    return false;
  }
}
