package io.courier.grpc.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.courier.CallContext;
import io.courier.CallMetadata;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.GrpcCallOptions;
import io.courier.client.GrpcClient;
import io.courier.client.GrpcRequestObserver;
import io.courier.client.MetadataCapture;
import io.courier.stream.StreamObserver;
import io.courier.testing.LeakDetectionExtension;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The interop scenarios the gRPC issue names, run by Courier's {@link GrpcClient} against a
 * server a subclass provides; each test method is one scenario, named after it, and checks what
 * grpc-java's {@code AbstractInteropTest} checks for it (payload sizes, statuses and their
 * messages, echoed metadata, compression, cancellation, deadlines).
 */
@ExtendWith(LeakDetectionExtension.class)
abstract class AbstractGrpcClientScenarios {

  /** gRPC's {@code grpc.testing.UnimplementedService}, which no interop server implements. */
  @ServiceName("grpc.testing.UnimplementedService")
  public interface UnimplementedService {
    Empty unimplementedCall(Empty request);
  }

  /** The interop service with the method grpc-java's server leaves unimplemented. */
  @ServiceName("grpc.testing.TestService")
  public interface TestServiceWithUnimplemented {
    Empty unimplementedCall(Empty request);
  }

  static final long WAIT_SECONDS = 30;
  static final String ECHO_INITIAL = "x-grpc-test-echo-initial";
  static final String ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";
  private static final String SPECIAL_MESSAGE =
      "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

  /** The client under test, connected to the server under test. */
  abstract GrpcClient client();

  InteropTestService service() {
    return client().stub(InteropTestService.class);
  }

  static Payload zeros(int size) {
    return Payload.newBuilder().setBody(ByteString.copyFrom(new byte[size])).build();
  }

  static SimpleRequest.Builder largeUnaryRequest() {
    return SimpleRequest.newBuilder().setResponseSize(314159).setPayload(zeros(271828));
  }

  static SimpleResponse goldenResponse(int size) {
    return SimpleResponse.newBuilder().setPayload(zeros(size)).build();
  }

  static BoolValue bool(boolean value) {
    return BoolValue.newBuilder().setValue(value).build();
  }

  /** Records a response stream: messages one by one, and how it ended. */
  static final class Responses<T> implements StreamObserver<T> {
    final BlockingQueue<T> queue = new LinkedBlockingQueue<>();
    final List<T> all = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    @Override
    public void onNext(T value) {
      all.add(value);
      queue.add(value);
    }

    @Override
    public void onError(Throwable error) {
      done.completeExceptionally(error);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }

    T next() throws InterruptedException {
      T value = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(value).as("a response within %s s", WAIT_SECONDS).isNotNull();
      return value;
    }

    void awaitCompleted() throws Exception {
      done.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** The status the stream failed with. */
    Status awaitFailure() throws Exception {
      try {
        done.get(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(RpcException.class);
        return ((RpcException) e.getCause()).status();
      }
      throw new AssertionError("the stream completed; expected a failure");
    }
  }

  private static StreamingOutputCallResponse sized(int size) {
    return StreamingOutputCallResponse.newBuilder().setPayload(zeros(size)).build();
  }

  @Test
  void empty_unary() {
    assertThat(service().emptyCall(Empty.getDefaultInstance()))
        .isEqualTo(Empty.getDefaultInstance());
  }

  @Test
  void large_unary() {
    assertThat(service().unaryCall(largeUnaryRequest().build()))
        .isEqualTo(goldenResponse(314159));
  }

  @Test
  void client_streaming() throws Exception {
    Responses<StreamingInputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingInputCallRequest> requests =
        service().streamingInputCall(responses);
    for (int size : new int[] {27182, 8, 1828, 45904}) {
      requests.onNext(StreamingInputCallRequest.newBuilder().setPayload(zeros(size)).build());
    }
    requests.onCompleted();
    responses.awaitCompleted();
    assertThat(responses.all).containsExactly(
        StreamingInputCallResponse.newBuilder().setAggregatedPayloadSize(74922).build());
  }

  @Test
  void server_streaming() throws Exception {
    int[] sizes = {31415, 9, 2653, 58979};
    StreamingOutputCallRequest.Builder request = StreamingOutputCallRequest.newBuilder();
    for (int size : sizes) {
      request.addResponseParameters(ResponseParameters.newBuilder().setSize(size));
    }
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    service().streamingOutputCall(request.build(), responses);
    responses.awaitCompleted();
    assertThat(responses.all).containsExactly(sized(31415), sized(9), sized(2653), sized(58979));
  }

  @Test
  void ping_pong() throws Exception {
    int[] requestSizes = {27182, 8, 1828, 45904};
    int[] responseSizes = {31415, 9, 2653, 58979};
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingOutputCallRequest> requests = service().fullDuplexCall(responses);
    for (int i = 0; i < requestSizes.length; i++) {
      requests.onNext(StreamingOutputCallRequest.newBuilder()
          .addResponseParameters(ResponseParameters.newBuilder().setSize(responseSizes[i]))
          .setPayload(zeros(requestSizes[i])).build());
      assertThat(responses.next()).isEqualTo(sized(responseSizes[i]));
    }
    requests.onCompleted();
    responses.awaitCompleted();
    assertThat(responses.all).hasSize(4);
  }

  @Test
  void empty_stream() throws Exception {
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    service().fullDuplexCall(responses).onCompleted();
    responses.awaitCompleted();
    assertThat(responses.all).isEmpty();
  }

  @Test
  void custom_metadata() throws Exception {
    byte[] trailing = {(byte) 0xab, (byte) 0xab, (byte) 0xab};
    CallMetadata metadata = new CallMetadata().put(ECHO_INITIAL, "test_initial_metadata_value")
        .putBinary(ECHO_TRAILING, trailing);
    MetadataCapture capture = new MetadataCapture();
    InteropTestService s = client().stub(InteropTestService.class,
        GrpcCallOptions.defaults().withMetadata(metadata).withCapture(capture));

    assertThat(s.unaryCall(largeUnaryRequest().build())).isEqualTo(goldenResponse(314159));
    assertThat(capture.headers().get(ECHO_INITIAL)).isEqualTo("test_initial_metadata_value");
    assertThat(capture.trailers().getBinary(ECHO_TRAILING)).isEqualTo(trailing);

    MetadataCapture streamCapture = new MetadataCapture();
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingOutputCallRequest> requests = client().stub(
        InteropTestService.class,
        GrpcCallOptions.defaults().withMetadata(metadata).withCapture(streamCapture))
        .fullDuplexCall(responses);
    requests.onNext(StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(314159))
        .setPayload(zeros(271828)).build());
    requests.onCompleted();
    responses.awaitCompleted();
    assertThat(responses.all).containsExactly(sized(314159));
    assertThat(streamCapture.headers().get(ECHO_INITIAL))
        .isEqualTo("test_initial_metadata_value");
    assertThat(streamCapture.trailers().getBinary(ECHO_TRAILING)).isEqualTo(trailing);
  }

  private void assertStatusEchoed(String message) throws Exception {
    EchoStatus status = EchoStatus.newBuilder().setCode(2).setMessage(message).build();
    assertThatThrownBy(() -> service().unaryCall(
        SimpleRequest.newBuilder().setResponseStatus(status).build()))
        .isInstanceOfSatisfying(RpcException.class, e -> {
          assertThat(e.status().code()).isEqualTo(Status.Code.UNKNOWN);
          assertThat(e.status().description()).isEqualTo(message);
        });
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingOutputCallRequest> requests = service().fullDuplexCall(responses);
    requests.onNext(StreamingOutputCallRequest.newBuilder().setResponseStatus(status).build());
    requests.onCompleted();
    Status failure = responses.awaitFailure();
    assertThat(failure.code()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(failure.description()).isEqualTo(message);
  }

  @Test
  void status_code_and_message() throws Exception {
    assertStatusEchoed("test status message");
  }

  @Test
  void special_status_message() throws Exception {
    assertStatusEchoed(SPECIAL_MESSAGE);
  }

  @Test
  void unimplemented_method() {
    assertThatThrownBy(() -> client().stub(TestServiceWithUnimplemented.class)
        .unimplementedCall(Empty.getDefaultInstance()))
        .isInstanceOfSatisfying(RpcException.class,
            e -> assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void unimplemented_service() {
    assertThatThrownBy(() -> client().stub(UnimplementedService.class)
        .unimplementedCall(Empty.getDefaultInstance()))
        .isInstanceOfSatisfying(RpcException.class,
            e -> assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void cancel_after_begin() throws Exception {
    Responses<StreamingInputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingInputCallRequest> requests = service().streamingInputCall(responses);
    requests.onError(new RuntimeException("cancelled by the test"));
    assertThat(responses.awaitFailure().code()).isEqualTo(Status.Code.CANCELLED);
    assertThat(((GrpcRequestObserver<?>) requests).isCancelled()).isTrue();
    assertThat(responses.all).isEmpty();
  }

  @Test
  void cancel_after_first_response() throws Exception {
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingOutputCallRequest> requests = service().fullDuplexCall(responses);
    requests.onNext(StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(31415))
        .setPayload(zeros(27182)).build());
    assertThat(responses.next()).isEqualTo(sized(31415));
    requests.onError(new RuntimeException("cancelled by the test"));
    assertThat(responses.awaitFailure().code()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void timeout_on_sleeping_server() throws Exception {
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    StreamObserver<StreamingOutputCallRequest> requests;
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(1))) {
      requests = service().fullDuplexCall(responses);
    }
    requests.onNext(StreamingOutputCallRequest.newBuilder().setPayload(zeros(27182)).build());
    assertThat(responses.awaitFailure().code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(responses.all).isEmpty();
  }

  @Test
  void very_large_request() {
    SimpleRequest request = SimpleRequest.newBuilder().setResponseSize(10)
        .setPayload(zeros(10 * 1024 * 1024)).build();
    assertThat(service().unaryCall(request)).isEqualTo(goldenResponse(10));
  }

  @Test
  void server_compressed_unary() {
    for (boolean compressed : new boolean[] {true, false}) {
      assertThat(service().unaryCall(largeUnaryRequest().setResponseCompressed(bool(compressed))
          .build())).isEqualTo(goldenResponse(314159));
    }
  }

  @Test
  void server_compressed_streaming() throws Exception {
    StreamingOutputCallRequest request = StreamingOutputCallRequest.newBuilder()
        .addResponseParameters(ResponseParameters.newBuilder().setSize(31415)
            .setCompressed(bool(true)))
        .addResponseParameters(ResponseParameters.newBuilder().setSize(92653)
            .setCompressed(bool(false))).build();
    Responses<StreamingOutputCallResponse> responses = new Responses<>();
    service().streamingOutputCall(request, responses);
    responses.awaitCompleted();
    assertThat(responses.all).containsExactly(sized(31415), sized(92653));
  }

  @Test
  void client_compressed_unary() {
    SimpleRequest expectCompressed = largeUnaryRequest().setExpectCompressed(bool(true)).build();
    SimpleRequest expectPlain = largeUnaryRequest().setExpectCompressed(bool(false)).build();
    // the probe: a plain message that claims to be compressed is refused
    assertThatThrownBy(() -> service().unaryCall(expectCompressed))
        .isInstanceOfSatisfying(RpcException.class,
            e -> assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    InteropTestService gzip = client().stub(InteropTestService.class,
        GrpcCallOptions.defaults().withCompression("gzip"));
    assertThat(gzip.unaryCall(expectCompressed)).isEqualTo(goldenResponse(314159));
    assertThat(service().unaryCall(expectPlain)).isEqualTo(goldenResponse(314159));
  }

  @Test
  void client_compressed_streaming() throws Exception {
    // the probe
    Responses<StreamingInputCallResponse> probe = new Responses<>();
    StreamObserver<StreamingInputCallRequest> plain = service().streamingInputCall(probe);
    plain.onNext(StreamingInputCallRequest.newBuilder().setExpectCompressed(bool(true))
        .setPayload(zeros(27182)).build());
    plain.onCompleted();
    assertThat(probe.awaitFailure().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    Responses<StreamingInputCallResponse> responses = new Responses<>();
    GrpcRequestObserver<StreamingInputCallRequest> requests =
        (GrpcRequestObserver<StreamingInputCallRequest>) client().stub(InteropTestService.class,
            GrpcCallOptions.defaults().withCompression("gzip")).streamingInputCall(responses);
    requests.setMessageCompression(true);
    requests.onNext(StreamingInputCallRequest.newBuilder().setExpectCompressed(bool(true))
        .setPayload(zeros(27182)).build());
    requests.setMessageCompression(false);
    requests.onNext(StreamingInputCallRequest.newBuilder().setExpectCompressed(bool(false))
        .setPayload(zeros(45904)).build());
    requests.onCompleted();
    responses.awaitCompleted();
    assertThat(responses.all).containsExactly(
        StreamingInputCallResponse.newBuilder().setAggregatedPayloadSize(73086).build());
  }
}
