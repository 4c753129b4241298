package io.courier;

import io.courier.auth.Identity;
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
 *
 * <p>Inside a service method served over gRPC, the context also holds the call's
 * {@link ServerCallInfo}: the request metadata ({@link #requestMetadata()}) and the response
 * headers and trailers to send ({@link #responseHeaders()}, {@link #responseTrailers()}). On a
 * Courier-protocol call there is none yet (those return detached, empty metadata, and what is added
 * to it is not sent).
 */
public final class CallContext {

  private static final ThreadLocal<Deadline> CURRENT = new ThreadLocal<>();
  private static final ThreadLocal<ServerCallInfo> CALL = new ThreadLocal<>();
  private static final ThreadLocal<Identity> IDENTITY = new ThreadLocal<>();
  /** The scope that restores "no deadline": shared, it holds nothing. */
  private static final Scope RESTORE_NONE = new Scope((Deadline) null);
  /** The scope that restores "no identity" when none was entered: shared, it holds nothing. */
  private static final Scope NO_IDENTITY = new Scope();

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

  /**
   * The call this thread is serving, or {@code null} outside a service method and on a
   * Courier-protocol call.
   */
  public static ServerCallInfo currentCall() {
    return CALL.get();
  }

  /**
   * The metadata the caller sent with the call being served; empty outside a service method and
   * on a Courier-protocol call.
   */
  public static CallMetadata requestMetadata() {
    ServerCallInfo c = CALL.get();
    return c == null ? CallMetadata.empty() : c.requestMetadata();
  }

  /**
   * The headers to send before the call's first response message; outside a gRPC call, detached
   * metadata whose content is not sent.
   */
  public static CallMetadata responseHeaders() {
    ServerCallInfo c = CALL.get();
    return c == null ? new CallMetadata() : c.responseHeaders();
  }

  /**
   * The trailers to send when the call ends; outside a gRPC call, detached metadata whose content
   * is not sent.
   */
  public static CallMetadata responseTrailers() {
    ServerCallInfo c = CALL.get();
    return c == null ? new CallMetadata() : c.responseTrailers();
  }

  /**
   * Replaces the deadline and the call being served until the returned scope is closed; used by
   * the framework when it runs a service method. The caller's identity becomes the call's
   * ({@link ServerCallInfo#identity()}).
   */
  public static Scope enterCall(Deadline deadline, ServerCallInfo call) {
    Scope s = new Scope(CURRENT.get(), CALL.get(), IDENTITY.get());
    CURRENT.set(deadline);
    CALL.set(call);
    IDENTITY.set(call == null ? null : call.identity());
    return s;
  }

  /**
   * The authenticated caller of the call being served, or {@code null}: outside a service method,
   * on a server without an authenticator, or in a public method called without credentials.
   */
  public static Identity identity() {
    return IDENTITY.get();
  }

  /**
   * Puts the caller's identity in force until the returned scope is closed; used by the
   * framework when it runs a service method. Allocates nothing when {@code identity} is null and
   * none is in force.
   */
  public static Scope enterIdentity(Identity identity) {
    Identity previous = IDENTITY.get();
    if (identity == null && previous == null) {
      return NO_IDENTITY;
    }
    IDENTITY.set(identity);
    return new Scope(previous);
  }

  /** Restores the previous deadline when closed. Close it on the thread that opened it. */
  public static final class Scope implements AutoCloseable {
    private static final int DEADLINE = 1;
    private static final int CALL_AND_IDENTITY = 2;
    private static final int IDENTITY_ONLY = 3;
    private static final int NOTHING = 4;

    private final int kind;
    private final Deadline previous;
    private final ServerCallInfo previousCall;
    private final Identity previousIdentity;

    private Scope(Deadline previous) {
      this.kind = DEADLINE;
      this.previous = previous;
      this.previousCall = null;
      this.previousIdentity = null;
    }

    private Scope(Deadline previous, ServerCallInfo previousCall, Identity previousIdentity) {
      this.kind = CALL_AND_IDENTITY;
      this.previous = previous;
      this.previousCall = previousCall;
      this.previousIdentity = previousIdentity;
    }

    /** Restores nothing: nothing was put in force. */
    private Scope() {
      this.kind = NOTHING;
      this.previous = null;
      this.previousCall = null;
      this.previousIdentity = null;
    }

    private Scope(Identity previousIdentity) {
      this.kind = IDENTITY_ONLY;
      this.previous = null;
      this.previousCall = null;
      this.previousIdentity = previousIdentity;
    }

    @Override
    public void close() {
      // set, not remove: a pool thread runs call after call, and removing the entry each time
      // made every call allocate a new one
      if (kind == NOTHING) {
        return;
      }
      if (kind == IDENTITY_ONLY) {
        IDENTITY.set(previousIdentity);
        return;
      }
      CURRENT.set(previous);
      if (kind == CALL_AND_IDENTITY) {
        CALL.set(previousCall);
        IDENTITY.set(previousIdentity);
      }
    }
  }
}
