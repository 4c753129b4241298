package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import io.courier.CallContext;
import io.courier.ServerCallInfo;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC on the Courier port, driven by a bare HTTP/2 client so that every answer, broken requests'
 * included, can be checked to the exact status and message. After each refused request the same
 * connection, and the Courier protocol on the same port, still serve.
 */
class GrpcServerTest {

  static final int MAX_MESSAGE = 1024;
  static final String ECHO = "/test.Echo/Echo";

  /** The service: protobuf well-known types in and out, so no generated code is needed. */
  @ServiceName("test.Echo")
  public interface Echo {
    StringValue echo(StringValue in);

    StringValue fail(StringValue codeAndMessage);

    Int32Value sleep(Int32Value millis);

    void count(Int32Value upTo, StreamObserver<Int32Value> out);

    StreamObserver<StringValue> join(StreamObserver<StringValue> out);

    /** Sends {@code count} messages of 16 KiB, producing only while the stream is ready. */
    void fill(Int32Value count, StreamObserver<StringValue> out);

    /** Asks for two request messages only, answering each; records what it received. */
    StreamObserver<StringValue> twoOnly(StreamObserver<StringValue> out);

    /**
     * Asks for one request message, then, a moment after it arrives, for all the rest; answers
     * with how many it received.
     */
    StreamObserver<StringValue> lateDemand(StreamObserver<StringValue> out);

    /** Not protobuf: not served over gRPC. */
    String plain(String s);
  }

  static final class EchoImpl implements Echo {
    final CountDownLatch countCancelled = new CountDownLatch(1);
    volatile String lastTenant;

    @Override
    public StringValue echo(StringValue in) {
      ServerCallInfo call = CallContext.currentCall();
      lastTenant = CallContext.requestMetadata().get("x-tenant");
      byte[] bin = call.requestMetadata().getBinary("x-data-bin");
      CallContext.responseHeaders().put("x-seen-tenant", String.valueOf(lastTenant));
      if (bin != null) {
        CallContext.responseTrailers().putBinary("x-data-bin", bin);
      }
      call.compressResponses(in.getValue().startsWith("gzip"));
      return StringValue.of("echo:" + in.getValue());
    }

    @Override
    public StringValue fail(StringValue codeAndMessage) {
      String[] parts = codeAndMessage.getValue().split(":", 2);
      throw new RpcException(Status.Code.valueOf(parts[0]).toStatus().withDescription(parts[1]));
    }

    @Override
    public Int32Value sleep(Int32Value millis) {
      try {
        Thread.sleep(millis.getValue());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return millis;
    }

    @Override
    public void count(Int32Value upTo, StreamObserver<Int32Value> out) {
      CallStreamObserver<Int32Value> o = (CallStreamObserver<Int32Value>) out;
      o.setOnCancelHandler(countCancelled::countDown);
      int n = upTo.getValue();
      for (int i = 1; n < 0 || i <= n; i++) {
        if (o.isCancelled()) {
          return;
        }
        out.onNext(Int32Value.of(i));
        if (n < 0) {
          try {
            Thread.sleep(5);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<StringValue> join(StreamObserver<StringValue> out) {
      StringBuilder sb = new StringBuilder();
      return new StreamObserver<>() {
        @Override
        public void onNext(StringValue value) {
          sb.append(value.getValue());
          out.onNext(StringValue.of("got " + value.getValue()));
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onNext(StringValue.of(sb.toString()));
          out.onCompleted();
        }
      };
    }

    final List<String> twoOnlyReceived = new java.util.concurrent.CopyOnWriteArrayList<>();
    final CountDownLatch twoOnlyCancelled = new CountDownLatch(1);

    @Override
    public StreamObserver<StringValue> twoOnly(StreamObserver<StringValue> out) {
      CallStreamObserver<StringValue> o = (CallStreamObserver<StringValue>) out;
      o.disableAutoRequest();
      o.request(2);
      o.setOnCancelHandler(twoOnlyCancelled::countDown);
      return new StreamObserver<>() {
        @Override
        public void onNext(StringValue value) {
          twoOnlyReceived.add(value.getValue());
          out.onNext(StringValue.of("got " + value.getValue()));
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          twoOnlyReceived.add("END");
          out.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<StringValue> lateDemand(StreamObserver<StringValue> out) {
      CallStreamObserver<StringValue> o = (CallStreamObserver<StringValue>) out;
      o.disableAutoRequest();
      o.request(1);
      int[] received = {0};
      return new StreamObserver<>() {
        @Override
        public void onNext(StringValue value) {
          if (++received[0] == 1) {
            Thread later = new Thread(() -> {
              try {
                Thread.sleep(300);
              } catch (InterruptedException e) {
                return;
              }
              o.request(Integer.MAX_VALUE);
            });
            later.setDaemon(true);
            later.start();
          }
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onNext(StringValue.of(Integer.toString(received[0])));
          out.onCompleted();
        }
      };
    }

    final CountDownLatch fillWaited = new CountDownLatch(1);
    final java.util.concurrent.atomic.AtomicInteger fillSent =
        new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void fill(Int32Value count, StreamObserver<StringValue> out) {
      CallStreamObserver<StringValue> o = (CallStreamObserver<StringValue>) out;
      StringValue chunk = StringValue.of("x".repeat(16 * 1024));
      int[] sent = {0};
      boolean[] done = {false};
      Runnable produce = () -> {
        while (o.isReady() && sent[0] < count.getValue()) {
          o.onNext(chunk);
          sent[0]++;
          fillSent.incrementAndGet();
        }
        if (sent[0] < count.getValue()) {
          fillWaited.countDown(); // not ready: resumed by the on-ready handler
        } else if (!done[0]) {
          done[0] = true;
          o.onCompleted();
        }
      };
      o.setOnReadyHandler(produce);
      produce.run();
    }

    @Override
    public String plain(String s) {
      return s;
    }
  }

  static EchoImpl impl;
  static CourierServer server;

  @BeforeAll
  static void start() {
    impl = new EchoImpl();
    server = CourierServer.builder().host("127.0.0.1").serializers("json")
        .grpcMaxMessageBytes(MAX_MESSAGE)
        .drainTimeout(Duration.ofSeconds(2))
        .service(Echo.class, impl)
        .service(Calculator.class, new CalculatorImpl())
        .build().start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static byte[] str(String s) {
    return StringValue.of(s).toByteArray();
  }

  private static String parseStr(byte[] b) throws IOException {
    return StringValue.parseFrom(b).getValue();
  }

  /** The connection still serves a well-formed call after whatever was sent before. */
  private static void assertServes(H2TestClient c) throws Exception {
    H2TestClient.Answer a = c.unary(ECHO, str("still here"));
    assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
    assertThat(parseStr(a.messages().get(0))).isEqualTo("echo:still here");
  }

  private static void assertStatus(H2TestClient.Answer a, Status.Code code, String message) {
    assertThat(a.grpcStatus()).as(a.grpcMessage()).isEqualTo(code.value());
    assertThat(a.grpcMessage()).isEqualTo(message);
  }

  @Test
  void unaryCallRoundTripsWithMetadata() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("x-tenant", "acme");
      h.set("x-data-bin",
          Base64.getEncoder().withoutPadding().encodeToString(new byte[] {1, 2, 3}));
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(str("hi"), false), true).await();
      assertThat(a.first().status().toString()).isEqualTo("200");
      assertThat(a.first().get("content-type").toString()).isEqualTo("application/grpc");
      assertThat(a.first().get("x-seen-tenant").toString()).isEqualTo("acme");
      assertThat(a.headers).hasSize(2);
      assertThat(a.grpcStatus()).isZero();
      assertThat(a.trailers().get("x-data-bin").toString()).isEqualTo("AQID");
      assertThat(parseStr(a.messages().get(0))).isEqualTo("echo:hi");
      assertThat(impl.lastTenant).isEqualTo("acme");
    }
  }

  @Test
  void unknownServiceIsUnimplemented() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.unary("/nope.Missing/Call", str("x"));
      assertThat(a.headers).hasSize(1); // trailers-only
      assertStatus(a, Status.Code.UNIMPLEMENTED, "unknown service nope.Missing");
      assertServes(c);
    }
  }

  @Test
  void unknownMethodIsUnimplemented() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      assertStatus(c.unary("/test.Echo/Nope", str("x")), Status.Code.UNIMPLEMENTED,
          "unknown method Nope in service test.Echo (or it does not take and return protobuf"
              + " messages)");
      assertStatus(c.unary("/test.Echo/Plain", str("x")), Status.Code.UNIMPLEMENTED,
          "unknown method Plain in service test.Echo (or it does not take and return protobuf"
              + " messages)");
      assertServes(c);
    }
  }

  @Test
  void malformedPathIsUnimplemented() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      assertStatus(c.unary("/justone", str("x")), Status.Code.UNIMPLEMENTED,
          "malformed method path '/justone' (expected: /package.Service/Method)");
      assertServes(c);
    }
  }

  @Test
  void wrongContentTypeIs415() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("content-type", "application/json");
      H2TestClient.Answer a = c.start(h, false).data("{}".getBytes(), true).await();
      assertThat(a.first().status().toString()).isEqualTo("415");
      assertStatus(a, Status.Code.INTERNAL,
          "content-type 'application/json' is not gRPC (expected: application/grpc)");
      assertServes(c);
    }
  }

  @Test
  void getIs405() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.method("GET");
      H2TestClient.Answer a = c.start(h, true).await();
      assertThat(a.first().status().toString()).isEqualTo("405");
      assertStatus(a, Status.Code.INTERNAL, "HTTP method GET is not allowed (expected: POST)");
      assertServes(c);
    }
  }

  @Test
  void oversizeMessageIsResourceExhausted() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      byte[] big = str("x".repeat(MAX_MESSAGE + 10));
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), false)
          .data(H2TestClient.frame(big, false), true).await();
      assertStatus(a, Status.Code.RESOURCE_EXHAUSTED, "gRPC message of " + big.length
          + " bytes exceeds the limit of " + MAX_MESSAGE + " bytes");
      assertServes(c);
    }
  }

  @Test
  void oversizeAfterDecompressionIsResourceExhausted() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("grpc-encoding", "gzip");
      byte[] zipped = gzip(str("x".repeat(MAX_MESSAGE * 4)));
      assertThat(zipped.length).isLessThan(MAX_MESSAGE);
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(zipped, true), true).await();
      assertStatus(a, Status.Code.RESOURCE_EXHAUSTED,
          "decompressed gRPC message exceeds the limit of " + MAX_MESSAGE + " bytes");
      assertServes(c);
    }
  }

  @Test
  void truncatedPrefixIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), false)
          .data(new byte[] {0, 0, 0}, true).await();
      assertStatus(a, Status.Code.INTERNAL,
          "the request stream ended inside a message's 5-byte prefix (3 bytes)");
      assertServes(c);
    }
  }

  @Test
  void truncatedMessageIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), false)
          .data(new byte[] {0, 0, 0, 0, 10, 1, 2}, true).await();
      assertStatus(a, Status.Code.INTERNAL,
          "the request stream ended inside a message (2 of 10 bytes received)");
      assertServes(c);
    }
  }

  @Test
  void badFlagsByteIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), false)
          .data(new byte[] {7, 0, 0, 0, 0}, true).await();
      assertStatus(a, Status.Code.INTERNAL,
          "malformed gRPC message: flags byte 0x7 (expected: 0 or 1)");
      assertServes(c);
    }
  }

  @Test
  void compressedFlagWithoutEncodingIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), false)
          .data(H2TestClient.frame(gzip(str("x")), true), true).await();
      assertStatus(a, Status.Code.INTERNAL,
          "a compressed gRPC message arrived, but the call's grpc-encoding is identity");
      assertServes(c);
    }
  }

  @Test
  void undecodableMessageIsInvalidArgument() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.unary(ECHO, new byte[] {(byte) 0xFF, (byte) 0xFF});
      assertThat(a.grpcStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
      assertThat(a.grpcMessage()).startsWith("cannot decode the request of test.Echo/Echo: ");
      assertServes(c);
    }
  }

  @Test
  void twoMessagesForUnaryIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders(ECHO), false);
      call.data(H2TestClient.frame(str("a"), false), false);
      H2TestClient.Answer a = call.data(H2TestClient.frame(str("b"), false), true).await();
      assertStatus(a, Status.Code.INTERNAL, "more than one request message for the unary or"
          + " server-streaming method test.Echo/Echo");
      assertServes(c);
    }
  }

  @Test
  void noMessageForUnaryIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.start(H2TestClient.grpcHeaders(ECHO), true).await();
      assertStatus(a, Status.Code.INTERNAL,
          "the request stream ended without a message; test.Echo/Echo takes one");
      assertServes(c);
    }
  }

  @Test
  void unknownEncodingIsUnimplemented() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("grpc-encoding", "snappy");
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(str("x"), true), true).await();
      assertStatus(a, Status.Code.UNIMPLEMENTED,
          "grpc-encoding 'snappy' is not supported (expected: identity or gzip)");
      assertThat(a.first().get("grpc-accept-encoding").toString()).isEqualTo("gzip");
      assertServes(c);
    }
  }

  @Test
  void malformedTimeoutIsInternal() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("grpc-timeout", "soon");
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(str("x"), false), true).await();
      assertStatus(a, Status.Code.INTERNAL, "malformed grpc-timeout 'soon' (expected: 1 to 8"
          + " digits and a unit of H, M, S, m, u or n)");
      assertServes(c);
    }
  }

  @Test
  void applicationStatusAndSpecialCharactersReachTheClient() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      String msg = "\t\nwhite space\r\nand ☺ and 😈 and 100%";
      H2TestClient.Answer a = c.unary("/test.Echo/Fail", str("FAILED_PRECONDITION:" + msg));
      assertStatus(a, Status.Code.FAILED_PRECONDITION, msg);
      assertThat(a.trailers().get("grpc-message").toString())
          .isEqualTo("%09%0Awhite space%0D%0Aand %E2%98%BA and %F0%9F%98%88 and 100%25");
    }
  }

  @Test
  void deadlineFromGrpcTimeoutEndsTheCall() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders("/test.Echo/Sleep");
      h.set("grpc-timeout", "100m");
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(Int32Value.of(3000).toByteArray(), false), true).await();
      assertStatus(a, Status.Code.DEADLINE_EXCEEDED, "deadline exceeded (test.Echo/Sleep)");
      assertServes(c);
    }
  }

  @Test
  void responsesAreGzippedWhenAskedAndAccepted() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      Http2Headers h = H2TestClient.grpcHeaders(ECHO);
      h.set("grpc-accept-encoding", "identity,gzip");
      h.set("grpc-encoding", "gzip");
      H2TestClient.Answer a = c.start(h, false)
          .data(H2TestClient.frame(gzip(str("gzip me")), true), true).await();
      assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
      assertThat(a.first().get("grpc-encoding").toString()).isEqualTo("gzip");
      assertThat(a.compressedFlags()).containsExactly(true);
      assertThat(parseStr(gunzip(a.messages().get(0)))).isEqualTo("echo:gzip me");
      // without grpc-accept-encoding the same request is answered uncompressed
      H2TestClient.Answer plain = c.unary(ECHO, str("gzip me"));
      assertThat(plain.compressedFlags()).containsExactly(false);
    }
  }

  @Test
  void serverStreamingSendsEveryMessage() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Answer a = c.unary("/test.Echo/Count", Int32Value.of(5).toByteArray());
      assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
      List<Integer> got = new ArrayList<>();
      for (byte[] m : a.messages()) {
        got.add(Int32Value.parseFrom(m).getValue());
      }
      assertThat(got).containsExactly(1, 2, 3, 4, 5);
    }
  }

  @Test
  void resetStreamCancelsTheCall() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/Count"), false)
          .data(H2TestClient.frame(Int32Value.of(-1).toByteArray(), false), true);
      call.firstHeaders.get(5, TimeUnit.SECONDS); // the stream is running
      call.reset();
      assertThat(impl.countCancelled.await(5, TimeUnit.SECONDS)).isTrue();
      assertServes(c);
    }
  }

  @Test
  void flowControlPausesTheProducerUntilTheClientReads() throws Exception {
    int count = 64; // 1 MiB: far beyond the client's 64 KiB window
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/Fill"), false, false);
      call.data(H2TestClient.frame(Int32Value.of(count).toByteArray(), false), true);
      // the client reads nothing, so its window runs out and isReady() turns false
      assertThat(impl.fillWaited.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(impl.fillSent.get()).as("sent before the client read").isLessThan(count);
      call.stream.eventLoop().execute(() -> {
        call.stream.config().setAutoRead(true);
        call.stream.read();
      });
      H2TestClient.Answer a = call.await();
      assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
      assertThat(a.messages()).hasSize(count);
    }
  }

  @Test
  void requestStreamDeliversOnlyWhatTheMethodAskedFor() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/TwoOnly"), false);
      for (String m : new String[] {"a", "b", "c"}) {
        call.data(H2TestClient.frame(str(m), false), false);
      }
      call.data(new byte[0], true);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (call.answer.messages().size() < 2 && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      assertThat(call.answer.messages()).hasSize(2);
      call.reset(); // "c" and the end of the stream were never asked for
      assertThat(impl.twoOnlyCancelled.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(impl.twoOnlyReceived).containsExactly("a", "b");
    }
  }

  @Test
  void bidiStreamingAnswersAsMessagesArrive() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/Join"), false);
      call.data(H2TestClient.frame(str("a"), false), false);
      call.firstHeaders.get(5, TimeUnit.SECONDS); // answered before the request stream ended
      call.data(H2TestClient.frame(str("b"), false), true);
      H2TestClient.Answer a = call.await();
      assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
      List<String> got = new ArrayList<>();
      for (byte[] m : a.messages()) {
        got.add(parseStr(m));
      }
      assertThat(got).containsExactly("got a", "got b", "ab");
    }
  }

  @Test
  void requestBytesHeldWhileTheMethodLagsAreReturnedToTheWindow() throws Exception {
    // more than the 1 MiB stream window: the call completes only if the bytes held back while
    // the method asked for nothing are handed back to the client's window afterwards
    int messages = 1400;
    byte[] one = H2TestClient.frame(str("x".repeat(990)), false);
    try (H2TestClient c = new H2TestClient(server.port())) {
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/LateDemand"), false);
      int perFrame = 100;
      for (int sent = 0; sent < messages; sent += perFrame) {
        byte[] chunk = new byte[one.length * perFrame];
        for (int i = 0; i < perFrame; i++) {
          System.arraycopy(one, 0, chunk, i * one.length, one.length);
        }
        // not awaited: a write waits for window the server has not granted yet
        call.stream.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
            io.netty.buffer.Unpooled.wrappedBuffer(chunk), sent + perFrame >= messages));
      }
      H2TestClient.Answer a = call.await();
      assertThat(a.grpcStatus()).as(a.grpcMessage()).isZero();
      assertThat(parseStr(a.messages().get(0))).isEqualTo(Integer.toString(messages));
    }
  }

  @Test
  void messagesSplitAndJoinedAcrossDataFramesArriveWhole() throws Exception {
    try (H2TestClient c = new H2TestClient(server.port())) {
      byte[] a = H2TestClient.frame(str("alpha"), false);
      byte[] b = H2TestClient.frame(str("beta"), false);
      byte[] d = H2TestClient.frame(str("delta"), false);
      byte[] all = new byte[a.length + b.length + d.length];
      System.arraycopy(a, 0, all, 0, a.length);
      System.arraycopy(b, 0, all, a.length, b.length);
      System.arraycopy(d, 0, all, a.length + b.length, d.length);
      // cut inside a's prefix, inside b's body (after a whole message), then the rest
      int[] cuts = {0, 3, a.length + 4, all.length};
      H2TestClient.Call call = c.start(H2TestClient.grpcHeaders("/test.Echo/Join"), false);
      for (int i = 0; i + 1 < cuts.length; i++) {
        call.data(java.util.Arrays.copyOfRange(all, cuts[i], cuts[i + 1]),
            i + 2 == cuts.length);
      }
      H2TestClient.Answer answer = call.await();
      assertThat(answer.grpcStatus()).as(answer.grpcMessage()).isZero();
      List<String> got = new ArrayList<>();
      for (byte[] m : answer.messages()) {
        got.add(parseStr(m));
      }
      assertThat(got).containsExactly("got alpha", "got beta", "got delta", "alphabetadelta");

      byte[] unary = H2TestClient.frame(str("split"), false);
      H2TestClient.Call one = c.start(H2TestClient.grpcHeaders(ECHO), false);
      one.data(java.util.Arrays.copyOfRange(unary, 0, 6), false);
      H2TestClient.Answer u = one.data(
          java.util.Arrays.copyOfRange(unary, 6, unary.length), true).await();
      assertThat(u.grpcStatus()).as(u.grpcMessage()).isZero();
      assertThat(parseStr(u.messages().get(0))).isEqualTo("echo:split");
    }
  }

  @Test
  void courierProtocolAndHttp1ShareThePort() throws Exception {
    try (CourierClient client = CourierClient.builder().serializer("json")
        .address("127.0.0.1:" + server.port()).build()) {
      assertThat(client.stub(Calculator.class).add(2, 3)).isEqualTo(5);
    }
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 200 OK").contains("test.Calculator"); // HTTP/JSON

    }
    try (H2TestClient c = new H2TestClient(server.port())) {
      assertServes(c);
    }
  }

  @Test
  void closingTheServerSendsGoAway() throws Exception {
    CourierServer s = CourierServer.builder().host("127.0.0.1")
        .drainTimeout(Duration.ofSeconds(2))
        .service(Echo.class, new EchoImpl()).build().start();
    try (H2TestClient c = new H2TestClient(s.port())) {
      H2TestClient.Answer a = c.unary(ECHO, str("before"));
      assertThat(a.grpcStatus()).isZero();
      s.close();
      Http2GoAwayFrame g = c.goAways.poll(5, TimeUnit.SECONDS);
      assertThat(g).isNotNull();
      try {
        assertThat(g.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
      } finally {
        g.release();
      }
    }
  }

  @Test
  void idleConnectionsAreClosedWithGoAway() throws Exception {
    CourierServer s = CourierServer.builder().host("127.0.0.1")
        .idleTimeout(Duration.ofMillis(200))
        .service(Echo.class, new EchoImpl()).build().start();
    try (H2TestClient c = new H2TestClient(s.port())) {
      assertThat(c.unary(ECHO, str("once")).grpcStatus()).isZero();
      Http2GoAwayFrame g = c.goAways.poll(5, TimeUnit.SECONDS);
      assertThat(g).isNotNull();
      g.release();
    } finally {
      s.close();
    }
  }

  @Test
  void aFullPoolIsResourceExhausted() throws Exception {
    CourierServer s = CourierServer.builder().host("127.0.0.1").maxThreads(1).queueCapacity(1)
        .drainTimeout(Duration.ofSeconds(2))
        .service(Echo.class, new EchoImpl()).build().start();
    try (H2TestClient c = new H2TestClient(s.port())) {
      byte[] sleep = H2TestClient.frame(Int32Value.of(300).toByteArray(), false);
      H2TestClient.Call running = c.start(H2TestClient.grpcHeaders("/test.Echo/Sleep"), false)
          .data(sleep, true);
      H2TestClient.Call queued = c.start(H2TestClient.grpcHeaders("/test.Echo/Sleep"), false)
          .data(sleep, true);
      H2TestClient.Answer refused = c.start(H2TestClient.grpcHeaders("/test.Echo/Sleep"), false)
          .data(sleep, true).await();
      assertThat(refused.grpcStatus()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
      assertThat(refused.grpcMessage()).startsWith("the server is overloaded");
      assertThat(running.await().grpcStatus()).isZero();
      assertThat(queued.await().grpcStatus()).isZero();
    } finally {
      s.close();
    }
  }

  @Test
  void agedConnectionsAreSentGoAway() throws Exception {
    CourierServer s = CourierServer.builder().host("127.0.0.1")
        .maxConnectionAge(Duration.ofMillis(200))
        .service(Echo.class, new EchoImpl()).build().start();
    try (H2TestClient c = new H2TestClient(s.port())) {
      assertThat(c.unary(ECHO, str("once")).grpcStatus()).isZero();
      Http2GoAwayFrame g = c.goAways.poll(5, TimeUnit.SECONDS);
      assertThat(g).isNotNull();
      g.release();
      assertThat(s.counters().connectionsAged()).isEqualTo(1);
    } finally {
      s.close();
    }
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(b);
    }
    return out.toByteArray();
  }

  static byte[] gunzip(byte[] b) throws IOException {
    try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(b))) {
      return z.readAllBytes();
    }
  }
}
