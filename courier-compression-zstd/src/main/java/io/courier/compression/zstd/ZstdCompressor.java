package io.courier.compression.zstd;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.courier.spi.Compressor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Zstandard (name {@code zstd}, id 3), through zstd-jni. Stateless and thread-safe. */
public final class ZstdCompressor implements Compressor {

  @Override
  public String name() {
    return "zstd";
  }

  @Override
  public int id() {
    return 3;
  }

  @Override
  public OutputStream compress(OutputStream out) throws IOException {
    return new ZstdOutputStreamNoFinalizer(out, 3);
  }

  @Override
  public InputStream decompress(InputStream in) throws IOException {
    return new ZstdInputStreamNoFinalizer(in);
  }
}
