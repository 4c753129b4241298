package io.courier.grpc.interop;

import com.google.protobuf.MessageLite;
import io.courier.client.GrpcClient;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.Messages.BoolValue;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.TestServiceImpl;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The interop scenarios with Courier's gRPC client against grpc-java's own interop server, set up
 * as grpc-java's {@code TestServiceServer} sets it up: {@code TestServiceImpl} behind
 * {@code TestServiceImpl.interceptors()} (which echo {@code x-grpc-test-echo-initial} in the
 * response headers and {@code x-grpc-test-echo-trailing-bin} in the trailers) on a Netty server
 * taking messages of up to 16 MiB.
 *
 * <p>One addition: {@code TestServiceImpl} ignores {@code expect_compressed}, which the
 * client_compressed scenarios rely on to prove a request was compressed, so {@link
 * ExpectCompressed} checks it here: a stream tracer records the size of each request message on
 * the wire, and a message whose wire size is below its decoded size arrived compressed (the
 * payloads are zeros, which gzip shrinks). A mismatch ends the call with INVALID_ARGUMENT, as the
 * interop test descriptions ask.
 */
class GrpcClientInteropScenariosTest extends AbstractGrpcClientScenarios {

  private static ScheduledExecutorService executor;
  private static Server server;
  private static GrpcClient client;

  @BeforeAll
  static void start() throws Exception {
    executor = Executors.newScheduledThreadPool(2);
    List<ServerInterceptor> interceptors = new ArrayList<>(TestServiceImpl.interceptors());
    interceptors.add(new ExpectCompressed());
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(16 * 1024 * 1024)
        .addStreamTracerFactory(new WireSizes.Factory())
        .addService(ServerInterceptors.intercept(new TestServiceImpl(executor), interceptors))
        .build().start();
    client = GrpcClient.builder().address("127.0.0.1:" + server.getPort())
        .timeout(Duration.ofSeconds(WAIT_SECONDS)).build();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    executor.shutdownNow();
  }

  @Override
  GrpcClient client() {
    return client;
  }

  /** Records the wire size of each inbound message of one call, by sequence number. */
  static final class WireSizes extends ServerStreamTracer {
    static final Context.Key<WireSizes> KEY = Context.key("courier-test-wire-sizes");
    final Map<Integer, Long> bySeqNo = new ConcurrentHashMap<>();

    @Override
    public Context filterContext(Context context) {
      return context.withValue(KEY, this);
    }

    @Override
    public void inboundMessageRead(int seqNo, long wireSize, long uncompressedSize) {
      bySeqNo.put(seqNo, wireSize);
    }

    static final class Factory extends ServerStreamTracer.Factory {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new WireSizes();
      }
    }
  }

  /** Refuses a request whose {@code expect_compressed} disagrees with how it arrived. */
  static final class ExpectCompressed implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      WireSizes sizes = WireSizes.KEY.get();
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, headers)) {
        private int seqNo;
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          BoolValue expect = null;
          if (message instanceof SimpleRequest r && r.hasExpectCompressed()) {
            expect = r.getExpectCompressed();
          } else if (message instanceof StreamingInputCallRequest r && r.hasExpectCompressed()) {
            expect = r.getExpectCompressed();
          }
          Long wire = sizes == null ? null : sizes.bySeqNo.get(seqNo);
          seqNo++;
          if (expect != null) {
            if (wire == null || wire < 0) {
              refuse(call, "the wire size of request " + (seqNo - 1) + " is unknown");
              return;
            }
            boolean compressed = wire < ((MessageLite) message).getSerializedSize();
            if (compressed != expect.getValue()) {
              refuse(call, "expected " + (expect.getValue() ? "a compressed" : "an uncompressed")
                  + " request, got " + (compressed ? "a compressed" : "an uncompressed") + " one");
              return;
            }
          }
          super.onMessage(message);
        }

        private void refuse(ServerCall<Q, R> call, String why) {
          refused = true;
          call.close(Status.INVALID_ARGUMENT.withDescription(why), new Metadata());
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }

        @Override
        public void onReady() {
          if (!refused) {
            super.onReady();
          }
        }
      };
    }
  }
}
