package io.courier.bench.courier;

import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Idle connections: the server's heap after a full GC with none, then with {@code n} client
 * connections open (each has sent one heartbeat, as a live client does, and then nothing). The
 * server runs in its own JVM with Courier's defaults.
 *
 * <pre>java -cp benchmarks/courier/target/bench-courier.jar io.courier.bench.courier.IdleConnections
 *     [connections, default 10000]</pre>
 */
public final class IdleConnections {

  private IdleConnections() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    ByteBuf ping = FrameCodec.control(UnpooledByteBufAllocator.DEFAULT, Frame.FLAG_HEARTBEAT, 0);
    byte[] heartbeat = ByteBufUtil.getBytes(ping);
    ping.release();
    List<SocketChannel> open = new ArrayList<>(n);
    try (ServerProcess server = new ServerProcess("courier", "-Xms512m", "-Xmx512m")) {
      long empty = heap(server);
      long start = System.nanoTime();
      InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.port);
      for (int i = 0; i < n; i++) {
        SocketChannel ch = SocketChannel.open(address);
        ch.write(ByteBuffer.wrap(heartbeat));
        open.add(ch);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(2_000); // the server has read every heartbeat and answered it
      long full = heap(server);
      int alive = 0;
      for (SocketChannel ch : open) {
        ch.configureBlocking(false);
        ByteBuffer b = ByteBuffer.allocate(64);
        if (ch.read(b) >= 0) {
          alive++; // the answer to its heartbeat, and no close
        }
      }
      System.out.printf(Locale.ROOT, "server heap after GC: %.1f MiB with no connection, %.1f MiB"
          + " with %d idle connections (%.1f KiB each); %d still open; opened in %.1f s%n",
          empty / 1048576.0, full / 1048576.0, n, (full - empty) / 1024.0 / n, alive, seconds);
    } finally {
      for (SocketChannel ch : open) {
        ch.close();
      }
    }
  }

  private static long heap(ServerProcess server) throws Exception {
    return Long.parseLong(server.ask("heap", "HEAP").split(" ")[1]);
  }
}
