package io.courier.compression.lz4;

import io.courier.spi.Compressor;
import io.courier.spi.CompressorContract;

class Lz4CompressorTest extends CompressorContract {

  @Override
  protected Compressor compressor() {
    return new Lz4Compressor();
  }

  @Override
  protected String expectedName() {
    return "lz4";
  }

  @Override
  protected int expectedId() {
    return 2;
  }
}
