package io.courier.grpc.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.CallContext;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.GrpcClient;
import io.courier.server.CourierServer;
import io.courier.stream.StreamObserver;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.BoolValue;
import io.grpc.testing.integration.Messages.EchoStatus;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceImpl;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Courier's gRPC client against grpc-java's own interop server ({@code TestServiceImpl} on a
 * grpc-java server), and against a Courier server.
 */
class GrpcClientInteropTest {

  /** The same service, seen through other shapes: an async method and the unimplemented one. */
  @ServiceName("grpc.testing.TestService")
  public interface AsyncTestService {
    CompletableFuture<SimpleResponse> unaryCall(SimpleRequest request);

    Empty unimplementedCall(Empty request);

    /** Not protobuf: cannot be called over gRPC. */
    String plain(String s);
  }

  private static ScheduledExecutorService executor;
  private static Server grpcServer;
  private static CourierServer courierServer;
  private static GrpcClient toGrpc;
  private static GrpcClient toCourier;

  @BeforeAll
  static void start() throws Exception {
    executor = Executors.newScheduledThreadPool(2);
    grpcServer = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new TestServiceImpl(executor)).build().start();
    courierServer = CourierServer.builder().host("127.0.0.1")
        .service(InteropTestService.class, new InteropTestServiceImpl(), "protobuf")
        .drainTimeout(Duration.ofSeconds(1)).build().start();
    toGrpc = GrpcClient.builder().address("127.0.0.1:" + grpcServer.getPort()).build();
    toCourier = GrpcClient.builder().address("127.0.0.1:" + courierServer.port()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    toGrpc.close();
    toCourier.close();
    grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    courierServer.close();
    executor.shutdownNow();
  }

  private static SimpleRequest large(boolean compressed) {
    return SimpleRequest.newBuilder().setResponseSize(314159)
        .setResponseCompressed(BoolValue.newBuilder().setValue(compressed))
        .setPayload(Payload.newBuilder().setBody(
            com.google.protobuf.ByteString.copyFrom(new byte[271828]))).build();
  }

  @Test
  void unaryCallsReachGrpcJava() {
    InteropTestService s = toGrpc.stub(InteropTestService.class);
    assertThat(s.emptyCall(Empty.getDefaultInstance())).isEqualTo(Empty.getDefaultInstance());
    assertThat(s.unaryCall(large(false)).getPayload().getBody().size()).isEqualTo(314159);
    // grpc-java compresses this answer with gzip
    assertThat(s.unaryCall(large(true)).getPayload().getBody().size()).isEqualTo(314159);
  }

  @Test
  void asyncUnaryCall() throws Exception {
    AsyncTestService s = toGrpc.stub(AsyncTestService.class);
    assertThat(s.unaryCall(large(false)).get(5, TimeUnit.SECONDS).getPayload().getBody().size())
        .isEqualTo(314159);
  }

  @Test
  void statusesArriveWithTheirMessage() {
    InteropTestService s = toGrpc.stub(InteropTestService.class);
    String message = "\t\nwith whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
    SimpleRequest failing = SimpleRequest.newBuilder()
        .setResponseStatus(EchoStatus.newBuilder().setCode(9).setMessage(message)).build();
    assertThatThrownBy(() -> s.unaryCall(failing)).isInstanceOfSatisfying(RpcException.class,
        e -> {
          assertThat(e.status().code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.status().description()).isEqualTo(message);
        });
    assertThatThrownBy(() -> toGrpc.stub(AsyncTestService.class)
        .unimplementedCall(Empty.getDefaultInstance()))
        .isInstanceOfSatisfying(RpcException.class,
            e -> assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  /** Collects a response stream. */
  static final class Recorder implements StreamObserver<StreamingOutputCallResponse> {
    final List<Integer> sizes = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    @Override
    public void onNext(StreamingOutputCallResponse value) {
      sizes.add(value.getPayload().getBody().size());
    }

    @Override
    public void onError(Throwable error) {
      done.completeExceptionally(error);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }
  }

  @Test
  void serverStreamingFromGrpcJava() throws Exception {
    StreamingOutputCallRequest request = StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(31415))
        .addResponseParameters(ResponseParameters.newBuilder().setSize(9))
        .addResponseParameters(ResponseParameters.newBuilder().setSize(2653)
            .setCompressed(BoolValue.newBuilder().setValue(true)))
        .addResponseParameters(ResponseParameters.newBuilder().setSize(58979)).build();
    Recorder r = new Recorder();
    toGrpc.stub(InteropTestService.class).streamingOutputCall(request, r);
    r.done.get(5, TimeUnit.SECONDS);
    assertThat(r.sizes).containsExactly(31415, 9, 2653, 58979);
  }

  @Test
  void deadlineFromTheContextEndsTheCall() {
    StreamingOutputCallRequest slow = StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(1)
            .setIntervalUs((int) TimeUnit.SECONDS.toMicros(20))).build();
    Recorder r = new Recorder();
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(100))) {
      toGrpc.stub(InteropTestService.class).streamingOutputCall(slow, r);
    }
    assertThatThrownBy(() -> r.done.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RpcException.class)
        .satisfies(e -> assertThat(((RpcException) e.getCause()).status().code())
            .isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(r.sizes).isEmpty();
  }

  @Test
  void courierClientToCourierServerOverGrpc() throws Exception {
    InteropTestService s = toCourier.stub(InteropTestService.class);
    assertThat(s.unaryCall(large(true)).getPayload().getBody().size()).isEqualTo(314159);
    Recorder r = new Recorder();
    s.streamingOutputCall(StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(7)).build(), r);
    r.done.get(5, TimeUnit.SECONDS);
    assertThat(r.sizes).containsExactly(7);
  }

  @Test
  void noServerIsConnectFailed() throws Exception {
    int port;
    try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    try (GrpcClient c = GrpcClient.builder().address("127.0.0.1:" + port).build()) {
      assertThatThrownBy(() -> c.stub(InteropTestService.class)
          .emptyCall(Empty.getDefaultInstance()))
          .isInstanceOfSatisfying(RpcException.class, e -> {
            assertThat(e.reason()).isEqualTo(io.courier.ErrorReason.CONNECT_FAILED);
            assertThat(e.getMessage()).contains("cannot connect to 127.0.0.1:" + port);
          });
    }
  }

  @Test
  void clientStreamingToGrpcJavaAndCourier() throws Exception {
    for (GrpcClient client : List.of(toGrpc, toCourier)) {
      CompletableFuture<Integer> total = new CompletableFuture<>();
      StreamObserver<StreamingInputCallRequest> requests = client.stub(InteropTestService.class)
          .streamingInputCall(new StreamObserver<>() {
            @Override
            public void onNext(StreamingInputCallResponse value) {
              total.complete(value.getAggregatedPayloadSize());
            }

            @Override
            public void onError(Throwable error) {
              total.completeExceptionally(error);
            }

            @Override
            public void onCompleted() {}
          });
      for (int size : new int[] {27182, 8, 1828, 45904}) {
        requests.onNext(StreamingInputCallRequest.newBuilder().setPayload(Payload.newBuilder()
            .setBody(com.google.protobuf.ByteString.copyFrom(new byte[size]))).build());
      }
      requests.onCompleted();
      assertThat(total.get(5, TimeUnit.SECONDS)).isEqualTo(74922);
    }
  }

  @Test
  void bidiStreamingWithGrpcJava() throws Exception {
    Recorder r = new Recorder();
    StreamObserver<StreamingOutputCallRequest> requests =
        toGrpc.stub(InteropTestService.class).fullDuplexCall(r);
    for (int size : new int[] {31415, 9, 2653}) {
      requests.onNext(StreamingOutputCallRequest.newBuilder()
          .addResponseParameters(ResponseParameters.newBuilder().setSize(size)).build());
    }
    requests.onCompleted();
    r.done.get(5, TimeUnit.SECONDS);
    assertThat(r.sizes).containsExactly(31415, 9, 2653);
  }

  @Test
  void cancellingTheRequestStreamEndsTheCall() {
    Recorder r = new Recorder();
    StreamObserver<StreamingOutputCallRequest> requests =
        toGrpc.stub(InteropTestService.class).fullDuplexCall(r);
    requests.onNext(StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(1)
            .setIntervalUs((int) TimeUnit.SECONDS.toMicros(20))).build());
    requests.onError(new IllegalStateException("changed my mind"));
    assertThatThrownBy(() -> r.done.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RpcException.class)
        .satisfies(e -> assertThat(((RpcException) e.getCause()).status().code())
            .isEqualTo(Status.Code.CANCELLED));
  }

  @Test
  void sendingAfterCompletingIsRefused() throws Exception {
    Recorder r = new Recorder();
    StreamObserver<StreamingOutputCallRequest> requests =
        toGrpc.stub(InteropTestService.class).fullDuplexCall(r);
    requests.onCompleted();
    assertThatThrownBy(() -> requests.onNext(StreamingOutputCallRequest.getDefaultInstance()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("onNext after onCompleted");
    assertThatThrownBy(requests::onCompleted).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("onCompleted twice");
    r.done.get(5, TimeUnit.SECONDS);
    assertThat(r.sizes).isEmpty();
  }

  @Test
  void methodsWithoutProtobufTypesAreRefusedClearly() {
    assertThatThrownBy(() -> toGrpc.stub(AsyncTestService.class).plain("x"))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("does not take and return protobuf messages");
  }
}
