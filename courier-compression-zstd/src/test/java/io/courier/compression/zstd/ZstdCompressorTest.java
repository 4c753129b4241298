package io.courier.compression.zstd;

import io.courier.spi.Compressor;
import io.courier.spi.CompressorContract;

class ZstdCompressorTest extends CompressorContract {

  @Override
  protected Compressor compressor() {
    return new ZstdCompressor();
  }

  @Override
  protected String expectedName() {
    return "zstd";
  }

  @Override
  protected int expectedId() {
    return 3;
  }
}
