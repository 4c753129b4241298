package io.courier;

import java.time.Duration;
import java.util.Objects;

/**
 * The deadline in force on the current thread.
 *
 * <p>Inside a service method, the context holds the deadline the caller sent, so a call made from
 * there inherits the remaining budget. A caller narrows the deadline for a block of calls:
 *
 * <pre>{@code
 * try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(50))) {
 *   calculator.add(1, 2);   // fails with DEADLINE_EXCEEDED after 50 ms at most
 * }
 * }</pre>
 *
 * <p>A scope never extends an inherited deadline: the earlier one wins.
 */
public final class CallContext {

  private static final ThreadLocal<Deadline> CURRENT = new ThreadLocal<>();
  /** The scope that restores "no deadline": shared, it holds nothing. */
  private static final Scope RESTORE_NONE = new Scope(null);

  private CallContext() {}

  /** The deadline in force on this thread, or {@code null} if there is none. */
  public static Deadline currentDeadline() {
    return CURRENT.get();
  }

  /** Puts a deadline in force until the returned scope is closed (the earlier one wins). */
  public static Scope withDeadline(Deadline deadline) {
    Objects.requireNonNull(deadline, "deadline");
    Deadline previous = CURRENT.get();
    CURRENT.set(deadline.min(previous));
    return scope(previous);
  }

  /** Puts a deadline {@code timeout} from now in force until the returned scope is closed. */
  public static Scope withTimeout(Duration timeout) {
    return withDeadline(Deadline.after(timeout));
  }

  /**
   * Replaces the deadline outright (including removing it with {@code null}); used by the framework
   * when it runs a service method.
   */
  public static Scope replaceDeadline(Deadline deadline) {
    Deadline previous = CURRENT.get();
    CURRENT.set(deadline);
    return scope(previous);
  }

  private static Scope scope(Deadline previous) {
    return previous == null ? RESTORE_NONE : new Scope(previous);
  }

  /** Restores the previous deadline when closed. Close it on the thread that opened it. */
  public static final class Scope implements AutoCloseable {
    private final Deadline previous;

    private Scope(Deadline previous) {
      this.previous = previous;
    }

    @Override
    public void close() {
      // set, not remove: a pool thread runs call after call, and removing the entry each time
      // made every call allocate a new one
      CURRENT.set(previous);
    }
  }
}
