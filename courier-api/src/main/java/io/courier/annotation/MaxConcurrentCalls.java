package io.courier.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The most calls of a service method one server runs at once, over all its connections and
 * protocols. A call beyond it is refused before its arguments are decoded, with
 * {@code RESOURCE_EXHAUSTED} (reason {@code OVERLOADED}, retryable: it did not run), so a method
 * that holds a scarce resource (a database connection pool, a licence, a lot of memory) sheds its
 * excess at once instead of tying up threads and queue slots that other methods need.
 *
 * <p>Streams count while they are open. The server's builder can set or override the limit
 * ({@code CourierServer.Builder.maxConcurrentCalls(type, "method", max)}).
 *
 * <pre>{@code
 * @MaxConcurrentCalls(16)
 * Report render(ReportRequest request);
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface MaxConcurrentCalls {
  /** The limit; at least 1. */
  int value();
}
