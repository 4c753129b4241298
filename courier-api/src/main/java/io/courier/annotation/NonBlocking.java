package io.courier.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares that a service method never blocks, so the server runs it directly on the connection's
 * event loop, skipping the hand-off to the executor. A method that blocks while marked so stalls
 * every connection on that event loop: use it only for quick, CPU-light methods, or methods that
 * return a {@code CompletableFuture} without waiting.
 *
 * <p>On an interface, applies to every method of it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface NonBlocking {}
