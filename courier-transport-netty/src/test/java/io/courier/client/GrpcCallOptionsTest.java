package io.courier.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.CallMetadata;
import org.junit.jupiter.api.Test;

class GrpcCallOptionsTest {

  @Test
  void defaultsSendNothingExtra() {
    GrpcCallOptions d = GrpcCallOptions.defaults();
    assertThat(d.metadata().isEmpty()).isTrue();
    assertThat(d.compression()).isEqualTo("identity");
    assertThat(d.capture()).isNull();
  }

  @Test
  void withCopiesAndLeavesTheOriginalAlone() {
    CallMetadata md = new CallMetadata().put("x-tenant", "acme");
    MetadataCapture capture = new MetadataCapture();
    GrpcCallOptions o = GrpcCallOptions.defaults().withMetadata(md).withCompression("gzip")
        .withCapture(capture);
    md.put("x-later", "not seen");
    assertThat(o.metadata().get("x-tenant")).isEqualTo("acme");
    assertThat(o.metadata().containsKey("x-later")).isFalse();
    assertThatThrownBy(() -> o.metadata().put("x-more", "v"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(o.compression()).isEqualTo("gzip");
    assertThat(o.capture()).isSameAs(capture);
    assertThat(o.withCompression("identity").compression()).isEqualTo("identity");
    assertThat(GrpcCallOptions.defaults().compression()).isEqualTo("identity");
  }

  @Test
  void unknownEncodingsAreRefused() {
    assertThatThrownBy(() -> GrpcCallOptions.defaults().withCompression("br"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("encoding: 'br' (expected: gzip or identity)");
  }

  @Test
  void protocolHeadersAreRefusedAsMetadata() {
    assertThatThrownBy(() -> GrpcCallOptions.defaults()
        .withMetadata(new CallMetadata().put("content-type", "text/plain")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("metadata: key 'content-type' (expected: not a header the gRPC protocol sets"
            + " itself)");
  }

  @Test
  void aCaptureStartsEmpty() {
    MetadataCapture capture = new MetadataCapture();
    assertThat(capture.headers().isEmpty()).isTrue();
    assertThat(capture.trailers().isEmpty()).isTrue();
  }
}
