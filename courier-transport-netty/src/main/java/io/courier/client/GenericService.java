package io.courier.client;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.core.reflect.MethodInfo;
import io.courier.core.reflect.ServerReflection;
import io.courier.core.reflect.ServiceInfo;
import io.courier.internal.codec.Serializers;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Calls the methods of one service by name, without its interface on the class path: for
 * command lines, bridges and gateways. Get one from {@link CourierClient#generic(String)}.
 *
 * <pre>{@code
 * GenericService shop = client.generic("demo.Shop");
 * Object total = shop.call("add", List.of(1, 2));                // 3
 * Object moved = shop.call("move", Map.of("p", Map.of("x", 1, "y", 2), "dx", 1, "dy", 1));
 * String json = shop.invokeJson("points", "[2]").join();          // [{"x":0,"y":0},...]
 * }</pre>
 *
 * <p>The call travels over the Courier protocol to the server's built-in
 * {@link ServerReflection} service, which decodes the JSON arguments into the method's declared
 * types under the service's class allow-list (a payload can never name a class) and runs the
 * method on its executor, under the call's deadline. Overloads are told apart by their number of
 * arguments. Failures are {@link RpcException}s: an unknown service or method is
 * {@link ErrorReason#UNKNOWN_METHOD} naming what the server has; bad arguments are
 * {@link ErrorReason#BAD_ARGUMENTS}.
 *
 * <p>{@link #invokeJson} needs nothing more; {@link #invoke} and {@link #call}, which take and
 * return lists and maps, need {@code courier-serialization-json} on the class path. Thread-safe.
 */
public final class GenericService {

  private final String service;
  private final ServerReflection reflection;
  private volatile Serializer json;

  GenericService(String service, ServerReflection reflection) {
    this.service = service;
    this.reflection = reflection;
  }

  /** The service name. */
  public String service() {
    return service;
  }

  /**
   * The service's methods, as the server describes them (one call).
   *
   * @throws RpcException {@link ErrorReason#UNKNOWN_METHOD} when the server does not serve the
   *     service
   */
  public List<MethodInfo> methods() {
    List<ServiceInfo> all = reflection.services();
    for (ServiceInfo s : all) {
      if (s.name().equals(service)) {
        return s.methods();
      }
    }
    throw new RpcException(ErrorReason.UNKNOWN_METHOD, "the server does not serve " + service
        + " (services: " + all.stream().map(ServiceInfo::name).toList() + ")");
  }

  /**
   * Calls {@code method} with JSON arguments and answers its result as JSON.
   *
   * @param arguments a JSON array of arguments, an object of named arguments, or null or empty
   *     for a method without parameters
   * @return completes with the JSON result ({@code null} for a void method), or fails with an
   *     {@link RpcException}
   */
  public CompletableFuture<String> invokeJson(String method, String arguments) {
    Objects.requireNonNull(method, "method");
    return reflection.invoke(service, method, arguments == null ? "" : arguments);
  }

  /**
   * Calls {@code method} and answers its result as plain values: maps, lists, strings, numbers,
   * booleans and null.
   *
   * @param arguments a {@link List} or array of positional arguments, a {@link Map} of named
   *     arguments, a {@link String} of JSON text, or null for none; values may be maps, lists,
   *     JDK values or objects Jackson can write
   * @throws IllegalArgumentException for arguments of another kind
   * @throws IllegalStateException without {@code courier-serialization-json} on the class path
   */
  public CompletableFuture<Object> invoke(String method, Object arguments) {
    Objects.requireNonNull(method, "method");
    String text = arguments instanceof String s ? s : toJson(arguments);
    return invokeJson(method, text).thenApply(this::fromJson);
  }

  /**
   * {@link #invoke} and wait for the result.
   *
   * @throws RpcException when the call fails
   */
  public Object call(String method, Object arguments) {
    CompletableFuture<Object> f = invoke(method, arguments);
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(false);
      Thread.currentThread().interrupt();
      throw new RpcException(ErrorReason.CANCELLED, "interrupted");
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      if (t instanceof RuntimeException r) {
        throw r;
      }
      throw new RpcException(ErrorReason.BAD_RESULT, service + "/" + method + ": " + t, t);
    }
  }

  private String toJson(Object arguments) {
    Object value;
    if (arguments == null) {
      return "";
    } else if (arguments instanceof Object[] a) {
      value = Arrays.asList(a);
    } else if (arguments instanceof Collection<?> || arguments instanceof Map<?, ?>) {
      value = arguments;
    } else {
      throw new IllegalArgumentException("arguments: " + arguments.getClass().getName()
          + " (expected: a List or array of arguments, a Map of named arguments, or JSON text)");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    try {
      json().writeValue(value, Object.class, out);
    } catch (IOException e) {
      throw new IllegalArgumentException("arguments: cannot be written as JSON: "
          + e.getMessage(), e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private Object fromJson(String text) {
    try {
      return json().readValue(Object.class,
          new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new RpcException(ErrorReason.BAD_RESULT, "the result of " + service
          + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  /** A JSON serializer with an empty allow-list: reads only JDK values. */
  private Serializer json() {
    Serializer s = json;
    if (s == null) {
      if (!Serializers.names().contains("json")) {
        throw new IllegalStateException("generic calls with list or map arguments need"
            + " io.courier:courier-serialization-json on the class path; invokeJson takes and"
            + " answers JSON text without it");
      }
      s = Serializers.byName("json").create(SerializerConfig.builder().build());
      json = s;
    }
    return s;
  }
}
