package io.courier.grpc.interop;

import com.google.protobuf.ByteString;
import io.courier.CallContext;
import io.courier.RpcException;
import io.courier.ServerCallInfo;
import io.courier.Status;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.BoolValue;
import io.grpc.testing.integration.Messages.EchoStatus;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.PayloadType;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Courier's implementation of the interop service, written from the interop test descriptions:
 * payloads of zero bytes of the asked size, metadata echoed, statuses as asked, per-message
 * compression as asked, and the compressed flag of requests checked when they say what to expect.
 */
final class InteropTestServiceImpl implements InteropTestService {

  static final String ECHO_INITIAL = "x-grpc-test-echo-initial";
  static final String ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

  @Override
  public Empty emptyCall(Empty request) {
    echoMetadata(CallContext.currentCall());
    return Empty.getDefaultInstance();
  }

  @Override
  public SimpleResponse unaryCall(SimpleRequest request) {
    ServerCallInfo call = CallContext.currentCall();
    echoMetadata(call);
    checkCompression(call, request.hasExpectCompressed(), request.getExpectCompressed());
    call.compressResponses(isTrue(request.hasResponseCompressed(),
        request.getResponseCompressed()));
    if (request.hasResponseStatus()) {
      throw failure(request.getResponseStatus());
    }
    SimpleResponse.Builder b = SimpleResponse.newBuilder();
    if (request.getResponseSize() > 0) {
      b.setPayload(payload(request.getResponseSize()));
    }
    return b.build();
  }

  @Override
  public void streamingOutputCall(StreamingOutputCallRequest request,
      StreamObserver<StreamingOutputCallResponse> responses) {
    ServerCallInfo call = CallContext.currentCall();
    echoMetadata(call);
    if (request.hasResponseStatus()) {
      responses.onError(failure(request.getResponseStatus()));
      return;
    }
    if (send(call, request.getResponseParametersList(), responses)) {
      responses.onCompleted();
    }
  }

  @Override
  public StreamObserver<StreamingInputCallRequest> streamingInputCall(
      StreamObserver<StreamingInputCallResponse> responses) {
    ServerCallInfo call = CallContext.currentCall();
    echoMetadata(call);
    return new StreamObserver<>() {
      private int total;
      private boolean failed;

      @Override
      public void onNext(StreamingInputCallRequest value) {
        if (failed) {
          return;
        }
        try {
          checkCompression(call, value.hasExpectCompressed(), value.getExpectCompressed());
        } catch (RpcException e) {
          failed = true;
          responses.onError(e);
          return;
        }
        total += value.getPayload().getBody().size();
      }

      @Override
      public void onError(Throwable t) {
        // the client cancelled: nothing to answer
      }

      @Override
      public void onCompleted() {
        if (!failed) {
          responses.onNext(StreamingInputCallResponse.newBuilder()
              .setAggregatedPayloadSize(total).build());
          responses.onCompleted();
        }
      }
    };
  }

  @Override
  public StreamObserver<StreamingOutputCallRequest> fullDuplexCall(
      StreamObserver<StreamingOutputCallResponse> responses) {
    ServerCallInfo call = CallContext.currentCall();
    echoMetadata(call);
    return new StreamObserver<>() {
      private boolean failed;

      @Override
      public void onNext(StreamingOutputCallRequest value) {
        if (failed) {
          return;
        }
        if (value.hasResponseStatus()) {
          failed = true;
          responses.onError(failure(value.getResponseStatus()));
          return;
        }
        failed = !send(call, value.getResponseParametersList(), responses);
      }

      @Override
      public void onError(Throwable t) {
        failed = true;
      }

      @Override
      public void onCompleted() {
        if (!failed) {
          responses.onCompleted();
        }
      }
    };
  }

  @Override
  public StreamObserver<StreamingOutputCallRequest> halfDuplexCall(
      StreamObserver<StreamingOutputCallResponse> responses) {
    ServerCallInfo call = CallContext.currentCall();
    echoMetadata(call);
    List<ResponseParameters> all = new ArrayList<>();
    return new StreamObserver<>() {
      @Override
      public void onNext(StreamingOutputCallRequest value) {
        all.addAll(value.getResponseParametersList());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (send(call, all, responses)) {
          responses.onCompleted();
        }
      }
    };
  }

  /** Sends one response per parameter; false when the call was cancelled meanwhile. */
  private static boolean send(ServerCallInfo call, List<ResponseParameters> params,
      StreamObserver<StreamingOutputCallResponse> responses) {
    CallStreamObserver<StreamingOutputCallResponse> out =
        (CallStreamObserver<StreamingOutputCallResponse>) responses;
    for (ResponseParameters p : params) {
      if (p.getIntervalUs() > 0) {
        try {
          TimeUnit.MICROSECONDS.sleep(p.getIntervalUs());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      if (out.isCancelled()) {
        return false;
      }
      call.compressResponses(isTrue(p.hasCompressed(), p.getCompressed()));
      try {
        out.onNext(StreamingOutputCallResponse.newBuilder().setPayload(payload(p.getSize()))
            .build());
      } catch (RpcException e) {
        return false; // cancelled between the check and the send
      }
    }
    return true;
  }

  private static Payload payload(int size) {
    return Payload.newBuilder().setType(PayloadType.COMPRESSABLE)
        .setBody(ByteString.copyFrom(new byte[size])).build();
  }

  private static boolean isTrue(boolean present, BoolValue value) {
    return present && value.getValue();
  }

  private static void checkCompression(ServerCallInfo call, boolean present, BoolValue expect) {
    if (present && expect.getValue() != call.requestCompressed()) {
      throw new RpcException(Status.INVALID_ARGUMENT.withDescription("expected a "
          + (expect.getValue() ? "compressed" : "uncompressed") + " request message, got "
          + (call.requestCompressed() ? "a compressed" : "an uncompressed") + " one"));
    }
  }

  private static RpcException failure(EchoStatus s) {
    return new RpcException(Status.Code.of(s.getCode()).toStatus()
        .withDescription(s.getMessage()));
  }

  private static void echoMetadata(ServerCallInfo call) {
    if (call == null) {
      return; // served over the Courier protocol: no metadata there yet
    }
    String initial = call.requestMetadata().get(ECHO_INITIAL);
    if (initial != null) {
      call.responseHeaders().put(ECHO_INITIAL, initial);
    }
    byte[] trailing = call.requestMetadata().getBinary(ECHO_TRAILING);
    if (trailing != null) {
      call.responseTrailers().putBinary(ECHO_TRAILING, trailing);
    }
  }
}
