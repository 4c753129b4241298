package io.courier.internal.codec;

import io.courier.spi.Compressor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** gzip (id 1), from the JDK. Stateless and thread-safe. */
public final class GzipCompressor implements Compressor {

  @Override
  public String name() {
    return "gzip";
  }

  @Override
  public int id() {
    return 1;
  }

  @Override
  public OutputStream compress(OutputStream out) throws IOException {
    return new GZIPOutputStream(out, 8192);
  }

  @Override
  public InputStream decompress(InputStream in) throws IOException {
    return new GZIPInputStream(in, 8192);
  }
}
