package io.courier;

import java.util.Objects;

/**
 * The outcome of a call: a {@link Code} from gRPC's code set, plus a human-readable description.
 *
 * <p>Immutable and thread-safe. Derive a variant with {@link #withDescription(String)}.
 *
 * <pre>{@code
 * throw new RpcException(Status.INVALID_ARGUMENT.withDescription("amount: -1 (expected: > 0)"));
 * }</pre>
 */
public final class Status {

  /**
   * Status codes, numbered exactly as gRPC numbers them so that the gRPC protocol maps one to one.
   */
  public enum Code {
    OK(0),
    CANCELLED(1),
    UNKNOWN(2),
    INVALID_ARGUMENT(3),
    DEADLINE_EXCEEDED(4),
    NOT_FOUND(5),
    ALREADY_EXISTS(6),
    PERMISSION_DENIED(7),
    RESOURCE_EXHAUSTED(8),
    FAILED_PRECONDITION(9),
    ABORTED(10),
    OUT_OF_RANGE(11),
    UNIMPLEMENTED(12),
    INTERNAL(13),
    UNAVAILABLE(14),
    DATA_LOSS(15),
    UNAUTHENTICATED(16);

    private static final Code[] BY_VALUE = values();

    private final int value;

    Code(int value) {
      this.value = value;
    }

    /** The wire value of this code (0 to 16). */
    public int value() {
      return value;
    }

    /** The code with the given wire value; {@link #UNKNOWN} for a value outside 0 to 16. */
    public static Code of(int value) {
      return value >= 0 && value < BY_VALUE.length ? BY_VALUE[value] : UNKNOWN;
    }

    /** The {@link Status} with this code and no description. */
    public Status toStatus() {
      return STATUSES[value];
    }
  }

  private static final Status[] STATUSES = new Status[Code.BY_VALUE.length];

  static {
    for (Code c : Code.BY_VALUE) {
      STATUSES[c.value] = new Status(c, null);
    }
  }

  public static final Status OK = Code.OK.toStatus();
  public static final Status CANCELLED = Code.CANCELLED.toStatus();
  public static final Status UNKNOWN = Code.UNKNOWN.toStatus();
  public static final Status INVALID_ARGUMENT = Code.INVALID_ARGUMENT.toStatus();
  public static final Status DEADLINE_EXCEEDED = Code.DEADLINE_EXCEEDED.toStatus();
  public static final Status NOT_FOUND = Code.NOT_FOUND.toStatus();
  public static final Status PERMISSION_DENIED = Code.PERMISSION_DENIED.toStatus();
  public static final Status RESOURCE_EXHAUSTED = Code.RESOURCE_EXHAUSTED.toStatus();
  public static final Status FAILED_PRECONDITION = Code.FAILED_PRECONDITION.toStatus();
  public static final Status UNIMPLEMENTED = Code.UNIMPLEMENTED.toStatus();
  public static final Status INTERNAL = Code.INTERNAL.toStatus();
  public static final Status UNAVAILABLE = Code.UNAVAILABLE.toStatus();
  public static final Status UNAUTHENTICATED = Code.UNAUTHENTICATED.toStatus();

  private final Code code;
  private final String description;

  private Status(Code code, String description) {
    this.code = code;
    this.description = description;
  }

  /** The code. */
  public Code code() {
    return code;
  }

  /** The description, or {@code null} if none was given. */
  public String description() {
    return description;
  }

  /** Whether the code is {@link Code#OK}. */
  public boolean isOk() {
    return code == Code.OK;
  }

  /** A copy of this status with the given description. */
  public Status withDescription(String description) {
    return Objects.equals(description, this.description) ? this : new Status(code, description);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Status s && s.code == code && Objects.equals(s.description, description);
  }

  @Override
  public int hashCode() {
    return code.hashCode() * 31 + Objects.hashCode(description);
  }

  @Override
  public String toString() {
    return description == null ? code.name() : code.name() + ": " + description;
  }
}
