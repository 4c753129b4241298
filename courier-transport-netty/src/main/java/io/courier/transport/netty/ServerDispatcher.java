package io.courier.transport.netty;

import io.courier.internal.server.DispatchTable;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.CallTracer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every connection of one server shares: the dispatch table, the settings, the count of calls
 * in flight (for draining) and counters of rejected input. Thread-safe.
 */
final class ServerDispatcher {

  final DispatchTable table;
  final ServerConfig config;
  final String serviceNames;
  /** The methods by service and method name, for calls that name them (HTTP/JSON, generic). */
  final ServiceIndex index;
  final AtomicInteger inFlight = new AtomicInteger();
  final LongAdder protocolErrors = new LongAdder();
  final LongAdder unsolicitedFrames = new LongAdder();
  final LongAdder duplicateRequests = new LongAdder();
  final LongAdder rejectedCalls = new LongAdder();
  final LongAdder connectionsAccepted = new LongAdder();
  final LongAdder rejectedConnections = new LongAdder();
  final LongAdder connectionsAged = new LongAdder();
  final LongAdder agedConnectionsClosed = new LongAdder();
  /**
   * Failures no input should cause (bugs in Courier, not bad input): the handler that caught
   * one logs it with its code and reports it here. The fuzz tests require it to stay at zero.
   */
  final LongAdder internalErrors = new LongAdder();
  final AtomicReference<Throwable> firstInternalError = new AtomicReference<>();
  volatile boolean draining;
  /** Authentication and access rules; null when the server has no authenticator. */
  volatile AccessControl access;
  /** Traces calls; null when the server traces nothing. */
  volatile CallTracer tracer;
  /** gRPC paths to methods, built on the first gRPC connection. */
  private volatile GrpcServices grpc;
  volatile int grpcMaxMessageBytes = GrpcServices.DEFAULT_MAX_MESSAGE_BYTES;
  /** Per-method and adaptive concurrency limits; set before the server starts. */
  volatile Admission admission = Admission.NONE;
  /** Who is told of calls and connections; null (the default) when nobody is. */
  volatile ServerObservers observers;

  ServerDispatcher(DispatchTable table, ServerConfig config, String serviceNames) {
    this.table = table;
    this.config = config;
    this.serviceNames = serviceNames;
    this.index = new ServiceIndex(table.methods());
  }

  /** Counts a failure that is a bug, not bad input; keeps the first for tests. Any thread. */
  void internalError(Throwable t) {
    internalErrors.increment();
    firstInternalError.compareAndSet(null, t);
  }

  ServerMethod lookup(int callId) {
    return table.get(callId);
  }

  GrpcServices grpc() {
    GrpcServices g = grpc;
    if (g == null) {
      synchronized (this) {
        g = grpc;
        if (g == null) {
          grpc = g = new GrpcServices(table.methods());
        }
      }
    }
    return g;
  }
}
