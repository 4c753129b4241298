package io.courier.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The default timeout of calls to a method (or to every method of an interface), overriding the
 * client's default. A deadline in force on the calling thread (see {@link io.courier.CallContext})
 * still wins if it is earlier.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Timeout {
  /** Timeout in milliseconds; must be positive. */
  long millis();
}
