package io.courier.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Overrides a service interface's name (by default its fully qualified class name). The name takes
 * part in every call ID, so both sides must agree on it; renaming the Java package without changing
 * the wire name is what this is for.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ServiceName {
  /** The service name, for example {@code "demo.Calculator"}. */
  String value();
}
