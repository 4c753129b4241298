package io.courier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CallMetadataTest {

  @Test
  void textAndBinaryValues() {
    CallMetadata md = new CallMetadata().put("X-Tenant", "acme").put("x-tenant", "beta")
        .putBinary("x-id-bin", new byte[] {1, 2});
    assertThat(md.get("x-tenant")).isEqualTo("beta");
    assertThat(md.getAll("X-TENANT")).containsExactly("acme", "beta");
    assertThat(md.getBinary("x-id-bin")).containsExactly(1, 2);
    assertThat(md.get("x-id-bin")).isNull();
    assertThat(md.keys()).containsExactly("x-tenant", "x-id-bin");
    assertThat(md.size()).isEqualTo(3);
  }

  @Test
  void invalidEntriesAreRefusedWithTheReason() {
    CallMetadata md = new CallMetadata();
    assertThatThrownBy(() -> md.put("x-a-bin", "v")).hasMessageContaining("use putBinary");
    assertThatThrownBy(() -> md.putBinary("x-a", new byte[0]))
        .hasMessageContaining("a -bin suffix");
    assertThatThrownBy(() -> md.put("x a", "v")).hasMessage(
        "key: 'x a' has ' ' at 1 (expected: a-z, 0-9, '-', '_', '.')");
    assertThatThrownBy(() -> md.put("grpc-status", "0")).hasMessageContaining("reserves");
    assertThatThrownBy(() -> md.put("x-a", "caf\u00e9")).hasMessageContaining("printable ASCII");
  }

  @Test
  void readOnlyCopiesRefuseChanges() {
    CallMetadata ro = new CallMetadata().put("a", "1").readOnlyCopy();
    assertThat(ro.get("a")).isEqualTo("1");
    assertThatThrownBy(() -> ro.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> CallMetadata.empty().put("b", "2"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void contextOutsideACallIsEmptyAndDetached() {
    assertThat(CallContext.currentCall()).isNull();
    assertThat(CallContext.requestMetadata().isEmpty()).isTrue();
    CallContext.responseHeaders().put("x", "y"); // accepted, goes nowhere
    assertThat(CallContext.responseHeaders().isEmpty()).isTrue();
  }

  @Test
  void enterCallSetsAndRestoresTheCall() {
    ServerCallInfo info = new ServerCallInfo("s/M", new CallMetadata().put("k", "v"));
    Deadline d = Deadline.after(java.time.Duration.ofSeconds(5));
    try (CallContext.Scope ignored = CallContext.enterCall(d, info)) {
      assertThat(CallContext.currentCall()).isSameAs(info);
      assertThat(CallContext.currentDeadline()).isSameAs(d);
      assertThat(CallContext.requestMetadata().get("k")).isEqualTo("v");
      CallContext.responseTrailers().put("t", "1");
    }
    assertThat(CallContext.currentCall()).isNull();
    assertThat(CallContext.currentDeadline()).isNull();
    assertThat(info.responseTrailers().get("t")).isEqualTo("1");
  }

  @Test
  void lazyRequestMetadataIsBuiltOnceWhenFirstRead() {
    java.util.concurrent.atomic.AtomicInteger builds =
        new java.util.concurrent.atomic.AtomicInteger();
    ServerCallInfo info = new ServerCallInfo("s/M", () -> {
      builds.incrementAndGet();
      return new CallMetadata().put("k", "v").readOnlyCopy();
    });
    assertThat(info.methodName()).isEqualTo("s/M");
    assertThat(builds).hasValue(0); // nothing built until asked
    assertThat(info.requestMetadata().get("k")).isEqualTo("v");
    assertThat(info.requestMetadata()).isSameAs(info.requestMetadata());
    assertThat(builds).hasValue(1);
  }
}
