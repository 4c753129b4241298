package io.courier.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Compressor} must do. An implementation's test extends this and supplies the
 * compressor, its name and its id.
 */
public abstract class CompressorContract {

  protected abstract Compressor compressor();

  protected abstract String expectedName();

  protected abstract int expectedId();

  private byte[] roundTrip(byte[] data) throws IOException {
    ByteArrayOutputStream packed = new ByteArrayOutputStream();
    try (OutputStream out = compressor().compress(packed)) {
      out.write(data);
    }
    try (InputStream in = compressor().decompress(
        new ByteArrayInputStream(packed.toByteArray()))) {
      return in.readAllBytes();
    }
  }

  @Test
  void roundTripsEverySizeOfNoiseAndText() throws IOException {
    Random random = new Random(1);
    for (int size : new int[] {0, 1, 64 << 10, 1 << 20}) {
      byte[] noise = new byte[size];
      random.nextBytes(noise);
      byte[] text = new byte[size];
      for (int i = 0; i < size; i++) {
        text[i] = (byte) "courier".charAt(i % 7);
      }
      assertThat(roundTrip(noise)).isEqualTo(noise);
      assertThat(roundTrip(text)).isEqualTo(text);
    }
  }

  @Test
  void garbageIsAnIoError() {
    byte[] junk = new byte[256];
    new Random(2).nextBytes(junk);
    assertThatThrownBy(() -> {
      try (InputStream in = compressor().decompress(new ByteArrayInputStream(junk))) {
        in.readAllBytes();
      }
    }).isInstanceOf(IOException.class);
  }

  @Test
  void nameAndIdAreTheDocumentedOnes() {
    assertThat(compressor().name()).isEqualTo(expectedName());
    assertThat(compressor().id()).isEqualTo(expectedId());
  }
}
