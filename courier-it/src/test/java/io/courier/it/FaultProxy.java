package io.courier.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A user-space TCP proxy on loopback that puts faults between a client and a server: each chunk
 * of bytes read from either side is delayed by a random time between {@code minDelay} and
 * {@code maxDelay} before it is written on (in order: a chunk never overtakes the one before),
 * and {@link #blackhole()} holds every byte, both ways, until {@link #heal()}, with the
 * connections left open (a partition that neither side's TCP notices). One thread reads and
 * one writes per direction of each connection; closing either side closes the other.
 */
final class FaultProxy implements AutoCloseable {

  private static final byte[] END = new byte[0];

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicLong accepted = new AtomicLong();
  private volatile long minDelayNanos;
  private volatile long maxDelayNanos;
  private volatile boolean blackholed;
  private volatile boolean closed;

  private FaultProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "proxy-accept-" + listener.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  /** A proxy to {@code host:port}, passing bytes on at once until told otherwise. */
  static FaultProxy to(String host, int port) throws IOException {
    return new FaultProxy(new InetSocketAddress(host, port));
  }

  /** The proxy's own address, {@code 127.0.0.1:port}, for clients to connect to. */
  String address() {
    return "127.0.0.1:" + port();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Connections accepted so far. */
  long accepted() {
    return accepted.get();
  }

  /** Delays every chunk by a uniformly random time in [{@code minMillis}, {@code maxMillis}]. */
  FaultProxy delay(long minMillis, long maxMillis) {
    this.minDelayNanos = TimeUnit.MILLISECONDS.toNanos(minMillis);
    this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxMillis);
    return this;
  }

  /** Holds every byte, both ways, on open connections; new connections hang the same way. */
  void blackhole() {
    blackholed = true;
  }

  /** Lets the held bytes and everything after them through again. */
  void heal() {
    blackholed = false;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket();
        try {
          server.connect(target, 5_000);
        } catch (IOException refused) {
          client.close();
          continue;
        }
        accepted.incrementAndGet();
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(server);
        pipe(client, server, "up");
        pipe(server, client, "down");
      } catch (IOException e) {
        if (!closed) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
      }
    }
  }

  /** A chunk and the time it may be written. */
  private record Chunk(byte[] bytes, long dueNanos) {}

  private void pipe(Socket from, Socket to, String direction) {
    BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    String name = "proxy-" + direction + "-" + from.getPort() + "-" + to.getPort();
    Thread reader = new Thread(() -> {
      long lastDue = 0;
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          long due = System.nanoTime() + randomDelay();
          lastDue = Math.max(lastDue, due);
          queue.add(new Chunk(Arrays.copyOf(buf, n), lastDue));
        }
      } catch (IOException ignored) {
        // the socket is closed
      }
      queue.add(new Chunk(END, lastDue));
    }, name + "-r");
    Thread writer = new Thread(() -> {
      try (OutputStream out = to.getOutputStream()) {
        while (true) {
          Chunk c = queue.take();
          long wait;
          while ((wait = c.dueNanos() - System.nanoTime()) > 0 || blackholed) {
            if (closed) {
              return;
            }
            LockSupport.parkNanos(blackholed ? TimeUnit.MILLISECONDS.toNanos(5) : wait);
          }
          if (c.bytes() == END) {
            break;
          }
          out.write(c.bytes());
          out.flush();
        }
      } catch (IOException ignored) {
        // the other side is gone
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, name + "-w");
    reader.setDaemon(true);
    writer.setDaemon(true);
    reader.start();
    writer.start();
  }

  private long randomDelay() {
    long min = minDelayNanos;
    long max = maxDelayNanos;
    return max <= min ? min : ThreadLocalRandom.current().nextLong(min, max + 1);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing
    }
    sockets.forEach(FaultProxy::closeQuietly);
  }

  @Override
  public String toString() {
    return "proxy " + address() + " -> " + target.getHostString() + ":" + target.getPort();
  }
}
