package io.courier.core;

import io.courier.annotation.Idempotent;
import io.courier.annotation.NonBlocking;
import io.courier.annotation.OneWay;
import io.courier.annotation.Timeout;
import io.courier.stream.StreamObserver;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One method of a service: its name, call ID, parameter and result types, and how it is called.
 * Built once per interface by {@link ServiceDescriptor#of(Class)}. Immutable.
 */
public final class MethodDescriptor {

  /** How a method is called. */
  public enum Kind {
    /** The caller waits for the result. */
    SYNC,
    /** The method returns a {@code CompletableFuture} (or {@code CompletionStage}). */
    ASYNC,
    /** A {@code void} method marked {@link OneWay}: no answer is sent. */
    ONE_WAY,
    /**
     * One request, a stream of responses: {@code void m(Req request, StreamObserver<Resp> out)}.
     */
    SERVER_STREAMING,
    /**
     * A stream each way (client streaming is the case of one response):
     * {@code StreamObserver<Req> m(StreamObserver<Resp> out)}.
     */
    BIDI_STREAMING;

    /** Whether calls of this kind carry streams. */
    public boolean isStreaming() {
      return this == SERVER_STREAMING || this == BIDI_STREAMING;
    }
  }

  private final String serviceName;
  private final Method method;
  private final int callId;
  private final String signature;
  private final Class<?>[] parameterClasses;
  private final Type[] parameterTypes;
  private final Type resultType;
  private final Type requestType;
  private final Kind kind;
  private final long timeoutMillis;
  private final boolean nonBlocking;
  private final boolean idempotent;
  private final List<Class<? extends Exception>> checkedExceptions;

  MethodDescriptor(String serviceName, Method method) {
    this.serviceName = serviceName;
    this.method = method;
    this.parameterClasses = method.getParameterTypes();
    this.parameterTypes = method.getGenericParameterTypes();
    this.callId = CallIds.callId(serviceName, method.getName(), parameterClasses);
    this.signature = CallIds.signature(serviceName, method.getName(), parameterClasses);
    Class<?> ret = method.getReturnType();
    Type[] generic = method.getGenericParameterTypes();
    int observers = 0;
    for (Class<?> c : parameterClasses) {
      observers += c == StreamObserver.class ? 1 : 0;
    }
    boolean serverStreaming = ret == void.class && parameterClasses.length == 2
        && parameterClasses[1] == StreamObserver.class && observers == 1;
    boolean bidi = ret == StreamObserver.class && parameterClasses.length == 1 && observers == 1;
    if ((observers > 0 || ret == StreamObserver.class) && !serverStreaming && !bidi) {
      throw new IllegalArgumentException("streaming method " + display(method) + " must be"
          + " void m(Req, StreamObserver<Resp>) or StreamObserver<Req> m(StreamObserver<Resp>)");
    }
    if ((serverStreaming || bidi) && method.isAnnotationPresent(OneWay.class)) {
      throw new IllegalArgumentException("@OneWay method " + display(method)
          + " cannot be a streaming method");
    }
    if (serverStreaming) {
      kind = Kind.SERVER_STREAMING;
      requestType = generic[0];
      resultType = element(method, generic[1]);
    } else if (bidi) {
      kind = Kind.BIDI_STREAMING;
      requestType = element(method, method.getGenericReturnType());
      resultType = element(method, generic[0]);
    } else if (method.isAnnotationPresent(OneWay.class)) {
      if (ret != void.class) {
        throw new IllegalArgumentException(
            "@OneWay method " + display(method) + " must return void, not " + ret.getTypeName());
      }
      kind = Kind.ONE_WAY;
      requestType = null;
      resultType = void.class;
    } else if (ret == CompletableFuture.class || ret == CompletionStage.class) {
      kind = Kind.ASYNC;
      requestType = null;
      Type g = method.getGenericReturnType();
      if (!(g instanceof ParameterizedType p)) {
        throw new IllegalArgumentException("async method " + display(method)
            + " must declare its result type, for example CompletableFuture<String>");
      }
      resultType = p.getActualTypeArguments()[0];
    } else {
      kind = Kind.SYNC;
      requestType = null;
      resultType = method.getGenericReturnType();
    }
    Timeout t = method.getAnnotation(Timeout.class);
    if (t == null) {
      t = method.getDeclaringClass().getAnnotation(Timeout.class);
    }
    if (t != null && t.millis() <= 0) {
      throw new IllegalArgumentException(
          "@Timeout on " + display(method) + ": " + t.millis() + " (expected: > 0)");
    }
    this.timeoutMillis = t == null ? -1 : t.millis();
    this.nonBlocking = method.isAnnotationPresent(NonBlocking.class)
        || method.getDeclaringClass().isAnnotationPresent(NonBlocking.class);
    this.idempotent = method.isAnnotationPresent(Idempotent.class)
        || method.getDeclaringClass().isAnnotationPresent(Idempotent.class);
    List<Class<? extends Exception>> checked = new ArrayList<>();
    for (Class<?> e : method.getExceptionTypes()) {
      if (Exception.class.isAssignableFrom(e) && !RuntimeException.class.isAssignableFrom(e)
          && !Modifier.isAbstract(e.getModifiers())) {
        checked.add(e.asSubclass(Exception.class));
      }
    }
    this.checkedExceptions = List.copyOf(checked);
  }

  /** The message type {@code T} of a {@code StreamObserver<T>}. */
  private static Type element(Method m, Type observer) {
    if (!(observer instanceof ParameterizedType p)) {
      throw new IllegalArgumentException("streaming method " + display(m)
          + " must declare its message types, for example StreamObserver<Note>");
    }
    return p.getActualTypeArguments()[0];
  }

  private static String display(Method m) {
    return m.getDeclaringClass().getSimpleName() + "." + m.getName();
  }

  /** The service this method belongs to. */
  public String serviceName() {
    return serviceName;
  }

  /** The method's name. */
  public String name() {
    return method.getName();
  }

  /** The interface method. */
  public Method method() {
    return method;
  }

  /** The call ID. */
  public int callId() {
    return callId;
  }

  /** The canonical signature the call ID is derived from, {@code service/method(types)}. */
  public String signature() {
    return signature;
  }

  /** The erased parameter types (a copy). */
  public Class<?>[] parameterClasses() {
    return parameterClasses.clone();
  }

  /** The generic parameter types (a copy). */
  public Type[] parameterTypes() {
    return parameterTypes.clone();
  }

  /** The number of parameters. */
  public int parameterCount() {
    return parameterClasses.length;
  }

  Type[] parameterTypesUnsafe() {
    return parameterTypes;
  }

  /**
   * The type of the result: the method's return type, {@code T} of a future of {@code T}, or the
   * message type of a streaming method's response stream.
   */
  public Type resultType() {
    return resultType;
  }

  /**
   * For a streaming method, the type of each request message (the single request of a
   * server-streaming method, or the messages of a bidirectional one's request stream); null for
   * other kinds.
   */
  public Type requestType() {
    return requestType;
  }

  /** How the method is called. */
  public Kind kind() {
    return kind;
  }

  /** The timeout from {@link Timeout}, or -1 when the method (and interface) has none. */
  public long timeoutMillis() {
    return timeoutMillis;
  }

  /** Whether the server may run this method on the event loop (see {@link NonBlocking}). */
  public boolean isNonBlocking() {
    return nonBlocking;
  }

  /** Whether the method may run more than once per call (see {@link Idempotent}). */
  public boolean isIdempotent() {
    return idempotent;
  }

  /** Checked exception types the method declares, rethrown as themselves on the client. */
  public List<Class<? extends Exception>> checkedExceptions() {
    return checkedExceptions;
  }

  /** A short human-readable form, for example {@code Calculator.add(int,int)}. */
  public String displayName() {
    StringBuilder sb = new StringBuilder(method.getDeclaringClass().getSimpleName()).append('.')
        .append(method.getName()).append('(');
    for (int i = 0; i < parameterClasses.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(parameterClasses[i].getSimpleName());
    }
    return sb.append(')').toString();
  }

  @Override
  public String toString() {
    return CallIds.toHex(callId) + " " + signature + " -> " + resultType.getTypeName() + " ["
        + kind + (nonBlocking ? ", non-blocking" : "") + (idempotent ? ", idempotent" : "")
        + "]"
        + (checkedExceptions.isEmpty() ? "" : " throws " + Arrays.toString(
            checkedExceptions.stream().map(Class::getName).toArray()));
  }
}
