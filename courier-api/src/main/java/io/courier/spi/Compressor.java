package io.courier.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A compression format for frame bodies, found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.courier.spi.Compressor}).
 *
 * <p>The {@link #id()} travels in every frame: 0 is "none"; 1 gzip, 2 LZ4, 3 Zstandard are
 * Courier's own. Implementations are stateless and thread-safe. The framework caps the number of
 * bytes it reads from {@link #decompress(InputStream)}, so a decompression bomb stops at the limit.
 */
public interface Compressor {

  /** The name used in configuration, for example {@code "gzip"}. */
  String name();

  /** The wire id, 1 to 255. */
  int id();

  /** Wraps {@code out} so that what is written to the result is compressed into {@code out}. */
  OutputStream compress(OutputStream out) throws IOException;

  /** Wraps {@code in} so that reading the result yields the decompressed bytes. */
  InputStream decompress(InputStream in) throws IOException;
}
