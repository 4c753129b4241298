package io.courier.internal.codec;

import io.courier.spi.Compressor;
import io.courier.spi.CompressorContract;

class GzipCompressorTest extends CompressorContract {

  @Override
  protected Compressor compressor() {
    return new GzipCompressor();
  }

  @Override
  protected String expectedName() {
    return "gzip";
  }

  @Override
  protected int expectedId() {
    return 1;
  }
}
