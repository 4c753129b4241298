package io.courier.compression.lz4;

import io.courier.spi.Compressor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

/** LZ4 frame format (name {@code lz4}, id 2), through lz4-java. Stateless and thread-safe. */
public final class Lz4Compressor implements Compressor {

  @Override
  public String name() {
    return "lz4";
  }

  @Override
  public int id() {
    return 2;
  }

  @Override
  public OutputStream compress(OutputStream out) throws IOException {
    return new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB);
  }

  @Override
  public InputStream decompress(InputStream in) throws IOException {
    return new LZ4FrameInputStream(in);
  }
}
