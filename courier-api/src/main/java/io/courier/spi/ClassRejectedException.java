package io.courier.spi;

/**
 * A payload named a class that is not on the allow-list. The class was not loaded and none of its
 * code ran.
 */
public class ClassRejectedException extends SerializationException {

  private final String className;

  /** For the rejected class name. */
  public ClassRejectedException(String className) {
    super("class " + className + " is not on the serialization allow-list"
        + " (allow it with allowType(...) if it is yours)");
    this.className = className;
  }

  /** The rejected class's name. */
  public String className() {
    return className;
  }
}
