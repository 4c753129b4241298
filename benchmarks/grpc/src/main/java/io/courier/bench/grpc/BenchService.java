package io.courier.bench.grpc;

import io.courier.bench.Small;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * The benchmark service {@code bench.Bench} as gRPC sees it: the two unary methods' descriptors,
 * which client and server share, and the server's implementation of them. Written out by hand
 * with what protoc's generated stub would hold (see {@link Messages} for the .proto).
 */
final class BenchService {

  static final String NAME = "bench.Bench";

  /** {@code /bench.Bench/Echo}: answers the bytes it is sent. */
  static final MethodDescriptor<byte[], byte[]> ECHO = unary("Echo", Messages.PAYLOAD);

  /** {@code /bench.Bench/Small}: answers {@link Small#answer()} of the object it is sent. */
  static final MethodDescriptor<Small, Small> SMALL = unary("Small", Messages.SMALL);

  private BenchService() {}

  private static <T> MethodDescriptor<T, T> unary(String method,
      MethodDescriptor.Marshaller<T> marshaller) {
    return MethodDescriptor.<T, T>newBuilder()
        .setType(MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(NAME, method))
        .setRequestMarshaller(marshaller)
        .setResponseMarshaller(marshaller)
        .setSampledToLocalTracing(true) // as generated stubs set it
        .build();
  }

  /** The service as a server registers it. */
  static ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(NAME)
        .addMethod(ECHO, ServerCalls.asyncUnaryCall(BenchService::echo))
        .addMethod(SMALL, ServerCalls.asyncUnaryCall(BenchService::small))
        .build();
  }

  private static void echo(byte[] request, StreamObserver<byte[]> response) {
    response.onNext(request);
    response.onCompleted();
  }

  private static void small(Small request, StreamObserver<Small> response) {
    response.onNext(request.answer());
    response.onCompleted();
  }
}
