package io.courier.transport.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * A port of its own serving HTTP/1.1 JSON only ({@link Http1Pipeline}), beside the Courier port,
 * on the same event loops and under the same connection limit and idle timeout.
 */
final class HttpPort {

  private HttpPort() {}

  /** Binds {@code host:port} and returns the listening channel; with {@code tls}, HTTPS only. */
  static Channel bind(EventLoopGroup boss, EventLoopGroup workers, String host, int port,
      ServerDispatcher dispatcher, ChannelGroup channels, ServerTls tls) {
    ServerConfig c = dispatcher.config;
    ServerBootstrap b = new ServerBootstrap()
        .group(boss, workers)
        .channel(Transports.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            dispatcher.connectionsAccepted.increment();
            if (channels.size() >= c.maxConnections()) {
              dispatcher.rejectedConnections.increment();
              ServerObservers.rejected(dispatcher);
              ch.close();
              return;
            }
            channels.add(ch);
            ServerObservers.opened(dispatcher, ch);
            if (tls != null) {
              ch.pipeline().addLast("tls-gate", new TlsGate(tls, true, dispatcher));
            }
            if (c.idleTimeoutMillis() > 0) {
              ch.pipeline().addLast("idle",
                  new IdleStateHandler(c.idleTimeoutMillis(), 0, 0, TimeUnit.MILLISECONDS));
            }
            Http1Pipeline.install(ch.pipeline(), dispatcher);
          }
        });
    return b.bind(host, port).syncUninterruptibly().channel();
  }
}
