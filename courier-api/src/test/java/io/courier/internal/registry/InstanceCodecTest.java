package io.courier.internal.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.registry.ServiceInstance;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class InstanceCodecTest {

  private static final ServiceInstance A = ServiceInstance.builder("demo.Codec", "127.0.0.1", 9001)
      .serializers(List.of("fory", "json")).weight(50).tag("gray").tag("canary").version("1.2.0")
      .metadata("zone", "a").metadata("odd=key", "line\nbreak").build();

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyFieldRoundTrips() {
    assertThat(InstanceCodec.decode(InstanceCodec.encode(A))).isEqualTo(A);
    ServiceInstance v6 = ServiceInstance.builder("demo.Codec", "::1", 1).build();
    assertThat(InstanceCodec.decode(InstanceCodec.encode(v6))).isEqualTo(v6);
  }

  @Test
  void theDataIsPlainText() {
    assertThat(new String(InstanceCodec.encode(A), StandardCharsets.UTF_8))
        .contains("service=demo.Codec", "port=9001", "weight=50", "meta.zone=a");
  }

  /**
   * The data depends on the instance alone: encoded again in a later second, or built with its
   * metadata in another order, it is the same bytes (registries compare stored data with it).
   */
  @Test
  void theDataIsTheSameBytesEveryTime() throws InterruptedException {
    byte[] first = InstanceCodec.encode(A);
    long second = System.currentTimeMillis() / 1_000;
    while (System.currentTimeMillis() / 1_000 == second) {
      Thread.sleep(20);
    }
    assertThat(InstanceCodec.encode(A)).isEqualTo(first);
    ServiceInstance reordered = ServiceInstance.builder("demo.Codec", "127.0.0.1", 9001)
        .serializers(List.of("fory", "json")).weight(50).tag("gray").tag("canary")
        .version("1.2.0").metadata("odd=key", "line\nbreak").metadata("zone", "a").build();
    assertThat(reordered).isEqualTo(A);
    assertThat(InstanceCodec.encode(reordered)).isEqualTo(first);
    assertThat(new String(first, StandardCharsets.UTF_8)).doesNotContain("#");
  }

  @Test
  void malformedDataIsRefused() {
    assertThat(InstanceCodec.decode(null)).isNull();
    assertThat(InstanceCodec.decode(new byte[0])).isNull();
    assertThat(InstanceCodec.decode(text("port=x"))).isNull();
    assertThat(InstanceCodec.decode(text("service=s\nhost=h\nport=70000"))).isNull();
    assertThat(InstanceCodec.decode(text("service=s\nhost=h\nport=1\nweight=0"))).isNull();
    assertThat(InstanceCodec.decode(text("service=a/b\nhost=h\nport=1"))).isNull();
    assertThat(InstanceCodec.decode(text("host=h\nport=1"))).isNull();
    assertThat(InstanceCodec.decode(text("\u0000garbage=%n"))).isNull();
    assertThat(InstanceCodec.decode(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2})).isNull();
  }

  @Test
  void oversizedDataIsRefusedUnread() {
    byte[] valid = InstanceCodec.encode(A);
    byte[] big = Arrays.copyOf(valid, InstanceCodec.MAX_BYTES + 1);
    Arrays.fill(big, valid.length, big.length, (byte) '\n');
    assertThat(InstanceCodec.decode(Arrays.copyOf(big, InstanceCodec.MAX_BYTES))).isEqualTo(A);
    assertThat(InstanceCodec.decode(big)).isNull();
  }

  @Test
  void anEntryCannotClaimAnotherServiceOrAddress() {
    byte[] data = InstanceCodec.encode(A);
    assertThat(InstanceCodec.decode(data, "demo.Codec", "127.0.0.1:9001")).isEqualTo(A);
    assertThat(InstanceCodec.decode(data, "demo.Other", "127.0.0.1:9001")).isNull();
    assertThat(InstanceCodec.decode(data, "demo.Codec", "127.0.0.1:9002")).isNull();
  }
}
