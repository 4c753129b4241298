package io.courier.transport.netty;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** Chooses epoll when the native library loads on this machine, NIO otherwise. */
public final class Transports {

  private static final boolean EPOLL = !Boolean.getBoolean("courier.transport.nio")
      && Epoll.isAvailable();

  private Transports() {}

  /** Whether the native epoll transport is in use. */
  public static boolean isEpoll() {
    return EPOLL;
  }

  /** A new event loop group of {@code threads} daemon threads named after {@code name}. */
  public static EventLoopGroup newGroup(int threads, String name) {
    DefaultThreadFactory tf = new DefaultThreadFactory(name, true);
    return new MultiThreadIoEventLoopGroup(threads, tf,
        EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  static Class<? extends ServerChannel> serverChannel() {
    return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  static Class<? extends SocketChannel> clientChannel() {
    return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /**
   * Fails unless Unix domain sockets can be used: they need the native epoll transport.
   *
   * @throws UnsupportedOperationException saying why they cannot
   */
  public static void requireDomainSockets() {
    if (!EPOLL) {
      throw new UnsupportedOperationException("Unix domain sockets need Netty's native epoll"
          + " transport (Linux), which is not in use here: " + (Epoll.isAvailable()
              ? "disabled by -Dcourier.transport.nio=true"
              : String.valueOf(Epoll.unavailabilityCause())));
    }
  }

  static Class<? extends ServerChannel> serverDomainChannel() {
    requireDomainSockets();
    return EpollServerDomainSocketChannel.class;
  }

  static Class<? extends Channel> clientDomainChannel() {
    requireDomainSockets();
    return EpollDomainSocketChannel.class;
  }
}
