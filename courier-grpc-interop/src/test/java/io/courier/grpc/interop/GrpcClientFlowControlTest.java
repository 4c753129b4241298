package io.courier.grpc.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.courier.annotation.ServiceName;
import io.courier.client.GrpcClient;
import io.courier.client.GrpcRequestObserver;
import io.courier.stream.StreamObserver;
import io.courier.testing.LeakDetectionExtension;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Flow control on the request stream of Courier's gRPC client, against a grpc-java server whose
 * method reads request messages only when the test lets it: while it does not, its HTTP/2 window
 * (64 KiB) fills, and the client's request stream must stop being ready instead of taking
 * messages without bound; once the server reads again, the on-ready handler resumes the producer.
 */
@ExtendWith(LeakDetectionExtension.class)
class GrpcClientFlowControlTest {

  /** The server's method, as the client sees it. */
  @ServiceName("courier.test.Sink")
  public interface Sink {
    StreamObserver<StreamingInputCallRequest> collect(
        StreamObserver<StreamingInputCallResponse> responses);
  }

  private static final int WINDOW = 65535;
  private static final int MESSAGE_BYTES = 8 * 1024;
  private static final int MESSAGES = 40;
  /** {@code GrpcClientTransport.READY_BYTES}: bytes that may wait to be written while ready. */
  private static final int READY_BYTES = 32 * 1024;

  private static Server server;
  private static GrpcClient client;
  private static final CompletableFuture<ServerCall<StreamingInputCallRequest,
      StreamingInputCallResponse>> serverCall = new CompletableFuture<>();

  @BeforeAll
  static void start() throws Exception {
    MethodDescriptor<StreamingInputCallRequest, StreamingInputCallResponse> collect =
        MethodDescriptor.<StreamingInputCallRequest, StreamingInputCallResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
            .setFullMethodName("courier.test.Sink/Collect")
            .setRequestMarshaller(ProtoUtils.marshaller(
                StreamingInputCallRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(
                StreamingInputCallResponse.getDefaultInstance()))
            .build();
    ServerServiceDefinition sink = ServerServiceDefinition.builder("courier.test.Sink")
        .addMethod(collect, (ServerCall<StreamingInputCallRequest,
            StreamingInputCallResponse> call, Metadata headers) -> {
          // no call.request(n) here: nothing is read until the test asks for it
          serverCall.complete(call);
          return new ServerCall.Listener<StreamingInputCallRequest>() {
            private int total;

            @Override
            public void onMessage(StreamingInputCallRequest message) {
              total += message.getPayload().getBody().size();
              call.request(1);
            }

            @Override
            public void onHalfClose() {
              call.sendHeaders(new Metadata());
              call.sendMessage(StreamingInputCallResponse.newBuilder()
                  .setAggregatedPayloadSize(total).build());
              call.close(Status.OK, new Metadata());
            }
          };
        }).build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .flowControlWindow(WINDOW).addService(sink).build().start();
    client = GrpcClient.builder().address("127.0.0.1:" + server.getPort())
        .timeout(Duration.ofSeconds(30)).build();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static StreamingInputCallRequest message() {
    return StreamingInputCallRequest.newBuilder().setPayload(Payload.newBuilder()
        .setBody(ByteString.copyFrom(new byte[MESSAGE_BYTES]))).build();
  }

  @Test
  void aFullWindowStopsTheProducerAndOnReadyResumesIt() throws Exception {
    CompletableFuture<Integer> total = new CompletableFuture<>();
    @SuppressWarnings("unchecked")
    GrpcRequestObserver<StreamingInputCallRequest> requests =
        (GrpcRequestObserver<StreamingInputCallRequest>) client.stub(Sink.class).collect(
            new StreamObserver<>() {
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
    AtomicInteger sent = new AtomicInteger();
    AtomicBoolean completed = new AtomicBoolean();
    requests.setOnReadyHandler(() -> {
      while (requests.isReady() && sent.get() < MESSAGES) {
        requests.onNext(message());
        sent.incrementAndGet();
      }
      if (sent.get() == MESSAGES && completed.compareAndSet(false, true)) {
        requests.onCompleted();
      }
    });
    // the server reads nothing yet: wait until the producer stalls (it stalls for good, so a
    // slow machine only makes the wait longer, never the outcome different)
    int last = -1;
    for (int unchanged = 0; unchanged < 3; ) {
      Thread.sleep(100);
      int now = sent.get();
      unchanged = now == last ? unchanged + 1 : 0;
      last = now;
    }
    // the window and the ready threshold bound what the stream took
    assertThat(sent.get()).isGreaterThan(0).isLessThan(MESSAGES);
    long wireBytes = (long) sent.get() * (MESSAGE_BYTES + 10);
    assertThat(wireBytes).isLessThanOrEqualTo(WINDOW + READY_BYTES + MESSAGE_BYTES + 10);
    assertThat(requests.isReady()).isFalse();
    assertThat(completed).isFalse();

    serverCall.get(30, TimeUnit.SECONDS).request(1); // the server starts reading
    assertThat(total.get(30, TimeUnit.SECONDS)).isEqualTo(MESSAGES * MESSAGE_BYTES);
    assertThat(completed).isTrue();
  }

  @Test
  void responseFlowControlIsRefusedClearly() {
    GrpcRequestObserver<?> requests = (GrpcRequestObserver<?>) client.stub(Sink.class)
        .collect(new StreamObserver<>() {
          @Override
          public void onNext(StreamingInputCallResponse value) {}

          @Override
          public void onError(Throwable error) {}

          @Override
          public void onCompleted() {}
        });
    assertThatThrownBy(requests::disableAutoRequest)
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("does not flow-control response streams");
    requests.cancel("done with it");
    assertThat(requests.isCancelled()).isTrue();
  }
}
