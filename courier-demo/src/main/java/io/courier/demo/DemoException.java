package io.courier.demo;

/** A checked exception the demo service declares; the consumer catches it as itself. */
public class DemoException extends Exception {
  public DemoException(String message) {
    super(message);
  }
}
