package io.courier.transport.netty;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket file of a server bound to a Unix domain socket: a stale one (left by a process that
 * died without closing) is removed at start; a live one, or a path that is not a socket, is
 * refused with a clear error; the file is removed when the server stops accepting.
 */
final class UnixSockets {

  private static final Logger log = LoggerFactory.getLogger(UnixSockets.class);
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private UnixSockets() {}

  /**
   * Makes {@code path} free to bind: nothing to do when it does not exist; a socket file nobody
   * listens on is deleted.
   *
   * @throws IllegalStateException when the path is not a socket, or a server listens on it
   */
  static void clearStale(Path path) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!isSocket(path)) {
      throw new IllegalStateException("unixSocket: " + path + " exists and is not a socket;"
          + " it is left alone (remove it, or choose another path)");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(path));
      throw new IllegalStateException("unixSocket: " + path + " is in use: another server"
          + " accepts connections on it");
    } catch (IOException refused) {
      // nobody listens: the file is stale (its server died without removing it)
    }
    try {
      Files.deleteIfExists(path);
      log.info("removed the stale socket file {} (no server listened on it)", path);
    } catch (IOException e) {
      throw new IllegalStateException("unixSocket: cannot remove the stale socket file " + path
          + ": " + e, e);
    }
  }

  /** Removes the socket file of a server that stopped accepting; failures are logged. */
  static void remove(Path path) {
    try {
      if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && isSocket(path)) {
        Files.delete(path);
      }
    } catch (IOException e) {
      log.warn("[COURIER-S04] cannot remove the socket file {}: {}", path, e.toString());
    }
  }

  private static boolean isSocket(Path path) {
    try {
      Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return mode instanceof Integer m && (m & S_IFMT) == S_IFSOCK;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false;
    }
  }
}
