package io.courier.transport.netty;

import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.auth.Identity;
import io.courier.core.MethodDescriptor;
import io.courier.internal.codec.Bodies;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.CallTracer;
import io.courier.spi.NamedArguments;
import io.courier.spi.Serializer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a served method with JSON arguments and gives its result as JSON: the call path of the
 * HTTP/JSON bridge and of generic invocation. The arguments are decoded on the method's executor
 * (or the event loop for a non-blocking method) by the service's JSON serializer, which enforces
 * the same class allow-list as typed calls, then checked against the parameter types exactly as
 * typed calls are. Stateless.
 */
final class JsonInvoker {

  private static final Logger log = LoggerFactory.getLogger(JsonInvoker.class);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  private JsonInvoker() {}

  /**
   * The message of the error answered when the server has no JSON serializer.
   */
  static final String NO_JSON = "calls with JSON arguments need io.courier:"
      + "courier-serialization-json on the server's class path";

  /**
   * Runs {@code m}.
   *
   * @param body the JSON arguments (an array, an object of named arguments when {@code named},
   *     or empty for a method without parameters); released once read
   * @param deadlineNanos the {@link System#nanoTime()} deadline, or 0 for none; in force inside
   *     the method as the {@link CallContext} deadline
   * @param abandoned whether the caller stopped waiting; checked before the method starts
   * @param span the call's span, current while the method runs; null when not traced
   * @return completes with the result as JSON, with null for a one-way method (as soon as its
   *     arguments are decoded, before it runs), or with an {@link RpcException}
   */
  static CompletableFuture<byte[]> run(ServerMethod m, ByteBuf body, boolean named,
      long deadlineNanos, BooleanSupplier abandoned, Identity identity,
      CallTracer.ServerSpan span) {
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    Serializer json = m.jsonSerializer();
    if (json == null) {
      body.release();
      f.completeExceptionally(new RpcException(ErrorReason.SERIALIZER_UNSUPPORTED, NO_JSON));
      return f;
    }
    Runnable task = () -> execute(m, json, body, named, deadlineNanos, abandoned, identity, span,
        f);
    Executor executor = m.executor();
    if (executor == null) {
      task.run();
      return f;
    }
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      body.release();
      f.completeExceptionally(new RpcException(ErrorReason.OVERLOADED,
          "server executor is saturated"));
    }
    return f;
  }

  private static void execute(ServerMethod m, Serializer json, ByteBuf body, boolean named,
      long deadlineNanos, BooleanSupplier abandoned, Identity identity, CallTracer.ServerSpan span,
      CompletableFuture<byte[]> f) {
    Object[] args;
    try {
      if (abandoned.getAsBoolean()) {
        f.completeExceptionally(new RpcException(ErrorReason.CANCELLED,
            "the caller stopped waiting before " + m.displayName() + " started"));
        return;
      }
      if (deadlineNanos != 0 && System.nanoTime() - deadlineNanos >= 0) {
        f.completeExceptionally(new RpcException(ErrorReason.DEADLINE_EXCEEDED,
            "deadline passed before " + m.displayName() + " started"));
        return;
      }
      args = decode(m, json, body, named);
    } catch (Throwable t) {
      f.completeExceptionally(Bodies.readFailure(t, ErrorReason.BAD_ARGUMENTS,
          "cannot decode the arguments of " + m.displayName()));
      return;
    } finally {
      body.release();
    }
    String mismatch = m.checkArguments(args);
    if (mismatch != null) {
      f.completeExceptionally(new RpcException(ErrorReason.BAD_ARGUMENTS, mismatch));
      return;
    }
    MethodDescriptor.Kind kind = m.descriptor().kind();
    if (kind == MethodDescriptor.Kind.ONE_WAY) {
      f.complete(null); // accepted: the caller does not wait for it to run
    }
    Object result;
    CallTracer.Scope traced = span == null ? null : span.makeCurrent();
    try (CallContext.Scope ignored = CallContext.replaceDeadline(
            deadlineNanos != 0 ? Deadline.atNanoTime(deadlineNanos) : null);
        CallContext.Scope caller = CallContext.enterIdentity(identity)) {
      result = m.invoke(args);
    } catch (Throwable t) {
      if (kind == MethodDescriptor.Kind.ONE_WAY) {
        log.debug("one-way call {} failed", m.displayName(), t);
      } else {
        f.completeExceptionally(failure(t));
      }
      return;
    } finally {
      if (traced != null) {
        traced.close();
      }
    }
    if (kind == MethodDescriptor.Kind.ONE_WAY) {
      return;
    }
    if (kind == MethodDescriptor.Kind.ASYNC) {
      if (result == null) {
        f.completeExceptionally(new RpcException(ErrorReason.BAD_RESULT,
            m.displayName() + " returned null instead of a CompletableFuture"));
        return;
      }
      ((CompletionStage<?>) result).whenComplete((v, t) -> {
        if (t != null) {
          f.completeExceptionally(failure(t));
        } else {
          complete(m, json, v, f);
        }
      });
    } else {
      complete(m, json, result, f);
    }
  }

  private static Object[] decode(ServerMethod m, Serializer json, ByteBuf body, boolean named)
      throws Exception {
    Type[] types = m.parameterTypes();
    if (!body.isReadable() || JsonShape.of(body).kind() == JsonShape.Kind.EMPTY) {
      if (types.length == 0) {
        return new Object[0];
      }
      throw new RpcException(ErrorReason.BAD_ARGUMENTS, m.displayName() + " expects "
          + types.length + " arguments, got none");
    }
    try (InputStream in = new ByteBufInputStream(body, false)) {
      if (!named) {
        return json.readArguments(types, in);
      }
      if (!(json instanceof NamedArguments n)) {
        throw new RpcException(ErrorReason.BAD_ARGUMENTS, "the JSON serializer here does not"
            + " read named arguments; send a JSON array");
      }
      return n.readNamedArguments(types, m.parameterNames(), in);
    }
  }

  private static void complete(ServerMethod m, Serializer json, Object value,
      CompletableFuture<byte[]> f) {
    Type type = m.descriptor().resultType();
    if (type == void.class || type == Void.class) {
      f.complete(NULL);
      return;
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(64);
      json.writeValue(value, type, out);
      f.complete(out.toByteArray());
    } catch (Throwable t) {
      f.completeExceptionally(new RpcException(ErrorReason.BAD_RESULT,
          "cannot encode the result of " + m.displayName() + " as JSON: " + t.getMessage()));
    }
  }

  /** How a method's exception is reported: itself if an RpcException, else APPLICATION_ERROR. */
  static RpcException failure(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RpcException r) {
      return r;
    }
    return new RpcException(Status.UNKNOWN.withDescription(t.getMessage()),
        ErrorReason.APPLICATION_ERROR, t.getClass().getName(), null, null, 0, null, null);
  }
}
