package io.courier.bench.grpc;

import io.courier.bench.Contender;
import io.courier.bench.Small;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * gRPC-java over its Netty transport (the shaded one, which brings its own Netty): a server bound
 * to the loopback interface serving {@link BenchService}, and a client with one plaintext channel
 * (one HTTP/2 connection) calling it through gRPC's async stub calls. Subclasses differ only in
 * the settings they add to the two builders.
 */
abstract class GrpcContender implements Contender {

  private static final long CONNECT_TIMEOUT_SECONDS = 10;
  private static final long CLOSE_TIMEOUT_SECONDS = 5;

  /** Adds this configuration's settings to a server builder (address and service are set). */
  abstract void configure(NettyServerBuilder server);

  /** Adds this configuration's settings to a channel builder (address and plaintext are set). */
  abstract void configure(NettyChannelBuilder channel);

  @Override
  public Server serve(int port) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
        .addService(BenchService.definition());
    configure(builder);
    return new GrpcServer(builder.build().start());
  }

  @Override
  public final Client connect(String host, int port) throws Exception {
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port).usePlaintext();
    configure(builder);
    ManagedChannel channel = builder.build();
    try {
      awaitReady(channel);
    } catch (Exception | Error e) {
      channel.shutdownNow(); // nothing to wait for, and the failure is what matters
      throw e;
    }
    return new GrpcClient(channel);
  }

  @Override
  public String toString() {
    return name();
  }

  /**
   * Connects now rather than on the first call (gRPC's channels connect lazily), so that a client
   * is connected when it is returned and a server that is not there fails here.
   */
  private static void awaitReady(ManagedChannel channel)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_TIMEOUT_SECONDS);
    ConnectivityState state = channel.getState(true);
    while (state != ConnectivityState.READY) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      long left = deadline - System.nanoTime();
      if (state == ConnectivityState.SHUTDOWN || left <= 0
          || !changed.await(left, TimeUnit.NANOSECONDS)) {
        throw new TimeoutException("channel to " + channel.authority() + " not ready after "
            + CONNECT_TIMEOUT_SECONDS + " s (" + state + ")");
      }
      state = channel.getState(true);
    }
  }


  /**
   * A running gRPC server. Closing it lets calls in progress finish for up to 5 s, then cancels
   * the rest; an interrupt cancels them at once and is kept for the caller to see.
   */
  private static final class GrpcServer implements Server {
    private final io.grpc.Server server;

    GrpcServer(io.grpc.Server server) {
      this.server = server;
    }

    @Override
    public int port() {
      return server.getPort();
    }

    @Override
    public void close() {
      server.shutdown();
      try {
        if (!server.awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          server.shutdownNow().awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A client on one channel; each call is a new HTTP/2 stream on its connection. Closing it
   * works like closing the server.
   */
  private static final class GrpcClient implements Client {
    private final ManagedChannel channel;

    GrpcClient(ManagedChannel channel) {
      this.channel = channel;
    }

    @Override
    public CompletionStage<byte[]> echo(byte[] payload) {
      UnaryAnswer<byte[]> answer = new UnaryAnswer<>();
      ClientCalls.asyncUnaryCall(channel.newCall(BenchService.ECHO, CallOptions.DEFAULT),
          payload, answer);
      return answer;
    }

    @Override
    public CompletionStage<Small> small(Small value) {
      UnaryAnswer<Small> answer = new UnaryAnswer<>();
      ClientCalls.asyncUnaryCall(channel.newCall(BenchService.SMALL, CallOptions.DEFAULT),
          value, answer);
      return answer;
    }

    @Override
    public void close() {
      channel.shutdown();
      try {
        if (!channel.awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          channel.shutdownNow().awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        channel.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The answer of one unary call: the observer gRPC delivers it to and the future the caller
   * waits on, in one object. Completes on the channel's executor, or on the transport's thread
   * with a direct executor.
   */
  private static final class UnaryAnswer<T> extends CompletableFuture<T>
      implements StreamObserver<T> {
    private T value;
    private boolean received;

    @Override
    public void onNext(T value) {
      this.value = value;
      received = true;
    }

    @Override
    public void onError(Throwable t) {
      completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      if (received) {
        complete(value);
      } else {
        completeExceptionally(Status.INTERNAL.withDescription("no answer to a unary call")
            .asRuntimeException());
      }
    }
  }
}
