package io.courier.core.reflect;

import io.courier.annotation.NonBlocking;
import io.courier.annotation.ServiceName;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Built into every Courier server: what it serves, and calls by name with JSON arguments for
 * callers that do not have the service interface on their class path (generic invocation, the
 * command line, gateways). Call it through {@code CourierClient.generic(service)} or a stub of
 * this interface.
 *
 * <p>Named arguments follow the same rules as typed calls: the arguments are decoded on the
 * server into the method's declared parameter types by the service's JSON serializer, under the
 * service's class allow-list, and a payload can never name a class.
 */
@ServiceName(ServerReflection.NAME)
@NonBlocking
public interface ServerReflection {

  /** The service name of this interface. */
  String NAME = "courier.Reflection";

  /** The services the server serves (this one excepted), with their methods. */
  List<ServiceInfo> services();

  /**
   * Calls a method by service and method name.
   *
   * @param service the service name, for example {@code demo.Shop}
   * @param method the method's Java name; overloads are told apart by their number of arguments
   * @param arguments a JSON array of the arguments, an object of named arguments, or empty for
   *     a method without parameters
   * @return the result as JSON ({@code null} for a void or one-way method; a one-way method
   *     answers once its arguments are decoded, before it runs)
   */
  CompletableFuture<String> invoke(String service, String method, String arguments);
}
