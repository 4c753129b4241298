package io.courier.bench.dubbo;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.apache.dubbo.common.Version;
import org.apache.dubbo.common.utils.NetUtils;

/**
 * Keeps Dubbo's traffic on the loopback interface, as the benchmark's contract asks.
 *
 * <p>Dubbo takes any {@code 127.x} address or {@code localhost} in a URL to mean "this host" and
 * replaces it with the first non-loopback address of the machine's network interfaces: a consumer
 * told to connect to {@code dubbo://127.0.0.1:port} connects to, say, {@code 10.0.0.5:port}, and
 * probes that address with {@code isReachable} first. Dubbo has no setting that names loopback as
 * this host (its interface settings skip loopback interfaces), so this class sets the address
 * Dubbo caches for this host to {@code 127.0.0.1} before a provider or consumer starts. The
 * provider still listens on the wildcard address, which Dubbo always binds for a {@code 127.x}
 * host; that is a listening socket only, and every call goes over loopback.
 */
final class DubboLoopback {

  private static boolean pinned;

  private DubboLoopback() {}

  /** Makes Dubbo take {@code 127.0.0.1} as this host's address; idempotent. */
  static synchronized void pin() {
    if (pinned) {
      return;
    }
    InetAddress loopback;
    try {
      loopback = InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new AssertionError(e); // four bytes are a valid IPv4 address
    }
    set("HOST_ADDRESS", loopback.getHostAddress());
    set("LOCAL_ADDRESS", loopback);
    if (!NetUtils.getLocalHost().equals(loopback.getHostAddress())) {
      throw new IllegalStateException("Dubbo still takes " + NetUtils.getLocalHost()
          + " as this host's address");
    }
    pinned = true;
  }

  /** Sets one of NetUtils' cached addresses; fails loudly if a Dubbo version renamed it. */
  private static void set(String field, Object value) {
    try {
      Field f = NetUtils.class.getDeclaredField(field);
      f.setAccessible(true);
      f.set(null, value);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot set NetUtils." + field + " of Dubbo "
          + Version.getVersion() + " to keep calls on loopback", e);
    }
  }
}
