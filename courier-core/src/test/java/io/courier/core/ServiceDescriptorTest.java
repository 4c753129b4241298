package io.courier.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.annotation.Idempotent;
import io.courier.annotation.NonBlocking;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import io.courier.annotation.Timeout;
import io.courier.stream.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ServiceDescriptorTest {

  @ServiceName("demo.Shop")
  interface Shop {
    int add(int a, int b);

    CompletableFuture<List<String>> list(String prefix);

    @OneWay
    void log(String line);

    @Timeout(millis = 250)
    @NonBlocking
    @Idempotent
    String ping();

    Map<String, Integer> stock(byte[] raw, long[] ids) throws IOException;

    default String local() {
      return "not remote";
    }

    static void helper() {}
  }

  interface Routes {
    void listFeatures(String area, StreamObserver<Integer> features);

    StreamObserver<String> chat(StreamObserver<Long> replies);
  }

  interface BadStream {
    void twoStreams(StreamObserver<String> a, StreamObserver<String> b);
  }

  interface RawStream {
    @SuppressWarnings("rawtypes")
    StreamObserver chat(StreamObserver replies);
  }

  interface OneWayStream {
    @OneWay
    void push(String a, StreamObserver<String> out);
  }

  @Test
  void streamingShapesAreRecognisedWithTheirMessageTypes() {
    ServiceDescriptor sd = ServiceDescriptor.of(Routes.class);
    MethodDescriptor list = find(sd, "listFeatures");
    assertThat(list.kind()).isEqualTo(MethodDescriptor.Kind.SERVER_STREAMING);
    assertThat(list.kind().isStreaming()).isTrue();
    assertThat(list.requestType()).isEqualTo(String.class);
    assertThat(list.resultType()).isEqualTo(Integer.class);
    MethodDescriptor chat = find(sd, "chat");
    assertThat(chat.kind()).isEqualTo(MethodDescriptor.Kind.BIDI_STREAMING);
    assertThat(chat.requestType()).isEqualTo(String.class);
    assertThat(chat.resultType()).isEqualTo(Long.class);
    assertThat(MethodDescriptor.Kind.SYNC.isStreaming()).isFalse();
    assertThat(ServiceDescriptor.of(Shop.class).methods())
        .allSatisfy(m -> assertThat(m.requestType()).isNull());
  }

  @Test
  void otherUsesOfStreamObserverAreRefusedWithTheShapesThatWork() {
    assertThatThrownBy(() -> ServiceDescriptor.of(BadStream.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BadStream.twoStreams")
        .hasMessageContaining("StreamObserver<Req> m(StreamObserver<Resp>)");
    assertThatThrownBy(() -> ServiceDescriptor.of(RawStream.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must declare its message types");
    assertThatThrownBy(() -> ServiceDescriptor.of(OneWayStream.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be a streaming method");
  }

  @Test
  void callIdsAreStableMurmurHashesOfTheSignature() {
    ServiceDescriptor sd = ServiceDescriptor.of(Shop.class);
    MethodDescriptor add = sd.methods().stream().filter(m -> m.name().equals("add")).findFirst()
        .orElseThrow();
    assertThat(add.signature()).isEqualTo("demo.Shop/add(int,int)");
    // Pinned: a change here breaks every deployed peer. See docs/protocol.md.
    assertThat(CallIds.ofSignature("test.Calculator/add(int,int)")).isEqualTo(0x20d18213);
    assertThat(add.callId()).isEqualTo(CallIds.ofSignature("demo.Shop/add(int,int)"));
    assertThat(CallIds.toHex(0x0000abcd)).isEqualTo("0x0000abcd");
  }

  @Test
  void murmur3MatchesTheReferenceVectors() {
    assertThat(CallIds.murmur3(new byte[0], 0)).isEqualTo(0);
    assertThat(CallIds.murmur3(new byte[0], 1)).isEqualTo(0x514E28B7);
    assertThat(CallIds.murmur3("test".getBytes(), 0x9747b28c)).isEqualTo(0x704b81dc);
    assertThat(CallIds.murmur3("Hello, world!".getBytes(), 0x9747b28c)).isEqualTo(0x24884CBA);
    assertThat(CallIds.murmur3("The quick brown fox jumps over the lazy dog".getBytes(),
        0x9747b28c)).isEqualTo(0x2FA826CD);
  }

  @Test
  void methodKindsTimeoutsAndTypes() {
    ServiceDescriptor sd = ServiceDescriptor.of(Shop.class);
    assertThat(sd.name()).isEqualTo("demo.Shop");
    assertThat(sd.methods()).extracting(MethodDescriptor::name)
        .containsExactly("add", "list", "log", "ping", "stock"); // sorted, no default/static
    MethodDescriptor list = find(sd, "list");
    assertThat(list.kind()).isEqualTo(MethodDescriptor.Kind.ASYNC);
    assertThat(list.resultType().getTypeName()).isEqualTo("java.util.List<java.lang.String>");
    assertThat(find(sd, "log").kind()).isEqualTo(MethodDescriptor.Kind.ONE_WAY);
    MethodDescriptor ping = find(sd, "ping");
    assertThat(ping.timeoutMillis()).isEqualTo(250);
    assertThat(ping.isNonBlocking()).isTrue();
    assertThat(ping.isIdempotent()).isTrue();
    assertThat(find(sd, "add").isIdempotent()).isFalse();
    assertThat(sd.describe()).contains("demo.Shop/ping() -> java.lang.String [SYNC, non-blocking,"
        + " idempotent]");
    MethodDescriptor stock = find(sd, "stock");
    assertThat(stock.signature()).isEqualTo("demo.Shop/stock(byte[],long[])");
    assertThat(stock.checkedExceptions()).containsExactly(IOException.class);
    assertThat(sd.describe()).contains("demo.Shop/add(int,int) -> int [SYNC]");
    assertThat(ServiceDescriptor.of(Shop.class)).isSameAs(sd);
  }

  private static MethodDescriptor find(ServiceDescriptor sd, String name) {
    return sd.methods().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  /** Two method names whose signatures hash to the same call ID (found by search). */
  @ServiceName("test.Collide")
  interface Colliding {
    void m105775();

    void m111433();
  }

  @Test
  void callIdCollisionIsRefusedAtRegistration() {
    assertThatThrownBy(() -> ServiceDescriptor.of(Colliding.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("call ID collision in test.Collide")
        .hasMessageContaining("m105775()")
        .hasMessageContaining("m111433()")
        .hasMessageContaining("0x140c6053");
  }

  interface BadOneWay {
    @OneWay
    int count();
  }

  interface RawFuture {
    @SuppressWarnings("rawtypes")
    CompletableFuture get();
  }

  @Test
  void invalidInterfacesAreRefusedWithAReason() {
    assertThatThrownBy(() -> ServiceDescriptor.of(String.class))
        .hasMessageContaining("expected: an interface");
    assertThatThrownBy(() -> ServiceDescriptor.of(BadOneWay.class))
        .hasMessageContaining("must return void");
    assertThatThrownBy(() -> ServiceDescriptor.of(RawFuture.class))
        .hasMessageContaining("must declare its result type");
    assertThat(ServiceDescriptor.of(Runnable.class).methods()).hasSize(1);
  }
}
