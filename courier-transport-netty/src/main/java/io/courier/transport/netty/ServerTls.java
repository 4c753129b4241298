package io.courier.transport.netty;

import io.courier.TlsConfig;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS server's contexts and their reload: one context for the shared port (ALPN
 * {@code http/1.1} then {@code h2}) and one for the HTTP port ({@code http/1.1}). Each new
 * connection takes the contexts in force when it is accepted, so a reload changes the certificate
 * of new connections only. Thread-safe.
 */
public final class ServerTls {

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private final TlsConfig config;
  private final long handshakeTimeoutMillis;
  private volatile Contexts contexts;
  private List<Long> lastSeen; // guarded by this: the files' modification times last loaded
  private ScheduledFuture<?> watcher; // guarded by this

  private record Contexts(SslContext port, SslContext http) {}

  /**
   * Loads the files of {@code config}.
   *
   * @throws IllegalStateException naming the files when they do not load
   */
  public ServerTls(TlsConfig config, long handshakeTimeoutMillis) {
    this.config = config;
    this.handshakeTimeoutMillis = handshakeTimeoutMillis > 0 ? handshakeTimeoutMillis : 10_000;
    List<Long> seen = modificationTimes();
    this.contexts = load();
    this.lastSeen = seen;
  }

  private Contexts load() {
    return new Contexts(TlsContexts.server(config, TlsContexts.HTTP_1_1, TlsContexts.H2),
        TlsContexts.server(config, TlsContexts.HTTP_1_1));
  }

  /** The settings. */
  public TlsConfig config() {
    return config;
  }

  /** A new handler for a connection of the shared port ({@code httpPort}: of the HTTP port). */
  SslHandler newHandler(Channel ch, boolean httpPort) {
    Contexts c = contexts;
    SslHandler h = (httpPort ? c.http() : c.port()).newHandler(ch.alloc());
    h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return h;
  }

  /**
   * Reads the files again and puts the new certificate (and trust certificates) in force for new
   * connections. On failure the contexts in force stay.
   *
   * @throws IllegalStateException naming the files and the cause when they do not load
   */
  public synchronized void reload() {
    List<Long> seen = modificationTimes();
    try {
      contexts = load();
      lastSeen = seen;
      log.info("TLS certificate reloaded from {}", config.certChain().orElse(null));
    } catch (IllegalStateException e) {
      lastSeen = seen; // the watcher does not retry the same broken files every interval
      log.error("[COURIER-T01] TLS reload failed, the previous certificate stays in force: {}",
          e.getMessage());
      throw new IllegalStateException("TLS reload failed, the previous certificate stays in"
          + " force: " + e.getMessage(), e.getCause());
    }
  }

  /** Checks the files every {@link TlsConfig#reloadInterval()}, if set, on {@code executor}. */
  synchronized void startWatching(EventExecutorGroup executor) {
    long every = config.reloadInterval().toMillis();
    if (every <= 0 || watcher != null) {
      return;
    }
    watcher = executor.scheduleWithFixedDelay(this::checkFiles, every, every,
        TimeUnit.MILLISECONDS);
  }

  synchronized void stopWatching() {
    if (watcher != null) {
      watcher.cancel(false);
      watcher = null;
    }
  }

  private void checkFiles() {
    try {
      synchronized (this) {
        if (modificationTimes().equals(lastSeen)) {
          return;
        }
      }
      reload();
    } catch (RuntimeException e) {
      // reload() has logged it; the watcher goes on
    }
  }

  /** Modification time and size of each file: a change of either is a change. */
  private List<Long> modificationTimes() {
    List<Long> seen = new ArrayList<>(6);
    List<Path> files = new ArrayList<>(3);
    config.certChain().ifPresent(files::add);
    config.privateKey().ifPresent(files::add);
    config.trustCertificates().ifPresent(files::add);
    for (Path p : files) {
      try {
        seen.add(Files.getLastModifiedTime(p).toMillis());
        seen.add(Files.size(p));
      } catch (IOException e) {
        seen.add(-1L);
        seen.add(-1L);
      }
    }
    return seen;
  }
}
