package io.courier.grpc.interop;

import io.courier.annotation.ServiceName;
import io.courier.stream.StreamObserver;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;

/**
 * gRPC's interop service {@code grpc.testing.TestService} as a plain Courier interface: no
 * generated gRPC stub, only the protobuf message classes. {@code UnimplementedCall} is left out
 * on purpose: the interop client expects UNIMPLEMENTED for it.
 */
@ServiceName("grpc.testing.TestService")
public interface InteropTestService {

  Empty emptyCall(Empty request);

  SimpleResponse unaryCall(SimpleRequest request);

  void streamingOutputCall(StreamingOutputCallRequest request,
      StreamObserver<StreamingOutputCallResponse> responses);

  StreamObserver<StreamingInputCallRequest> streamingInputCall(
      StreamObserver<StreamingInputCallResponse> responses);

  StreamObserver<StreamingOutputCallRequest> fullDuplexCall(
      StreamObserver<StreamingOutputCallResponse> responses);

  StreamObserver<StreamingOutputCallRequest> halfDuplexCall(
      StreamObserver<StreamingOutputCallResponse> responses);
}
