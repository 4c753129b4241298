package io.courier.bench.courier;

import io.courier.bench.Contender;
import io.courier.bench.Small;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The ceiling of the stack: raw Netty (epoll when available, as Courier uses), a 4-byte length
 * prefix, pipelined on one connection, answers matched to calls in order, writes from the event
 * loop flushed once per read batch. No serialization, no ids, no timeouts: what any framework on
 * Netty pays at least. Only {@code echo}.
 */
public final class NettyContender implements Contender {

  private static final boolean EPOLL = Epoll.isAvailable();

  @Override
  public String name() {
    return "netty";
  }

  private static EventLoopGroup group(String name, int threads) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true),
        EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  private static LengthFieldBasedFrameDecoder frames() {
    return new LengthFieldBasedFrameDecoder(64 << 20, 0, 4, 0, 4);
  }

  @Override
  public Server serve(int port) throws InterruptedException {
    EventLoopGroup boss = group("netty-boss", 1);
    EventLoopGroup workers = group("netty-io", 0);
    Class<? extends ServerChannel> type = EPOLL ? EpollServerSocketChannel.class
        : NioServerSocketChannel.class;
    Channel server = new ServerBootstrap().group(boss, workers).channel(type)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(frames(), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf frame = (ByteBuf) msg;
                ByteBuf out = ctx.alloc().buffer(4 + frame.readableBytes());
                out.writeInt(frame.readableBytes()).writeBytes(frame);
                frame.release();
                ctx.write(out, ctx.voidPromise());
              }

              @Override
              public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
              }
            });
          }
        })
        .bind("127.0.0.1", port).sync().channel();
    return new Server() {
      @Override
      public int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
      }

      @Override
      public void close() {
        server.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
      }
    };
  }

  @Override
  public Client connect(String host, int port) throws InterruptedException {
    EventLoopGroup group = group("netty-client", 1);
    PipelinedClient handler = new PipelinedClient();
    Channel ch = new Bootstrap().group(group)
        .channel(EPOLL ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel c) {
            c.pipeline().addLast(frames(), handler);
          }
        })
        .connect(host, port).sync().channel();
    EventLoop loop = ch.eventLoop();
    return new Client() {
      @Override
      public CompletionStage<byte[]> echo(byte[] payload) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (loop.inEventLoop()) {
          handler.send(ch, payload, f);
        } else {
          loop.execute(() -> handler.send(ch, payload, f));
        }
        return f;
      }

      @Override
      public CompletionStage<Small> small(Small value) {
        return CompletableFuture.failedFuture(
            new UnsupportedOperationException("raw Netty only echoes bytes"));
      }

      @Override
      public void close() {
        ch.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
      }
    };
  }

  /** Event-loop confined: calls in the order sent, answered in the same order. */
  private static final class PipelinedClient extends ChannelInboundHandlerAdapter {
    private final ArrayDeque<CompletableFuture<byte[]>> pending = new ArrayDeque<>();
    private boolean reading;

    void send(Channel ch, byte[] payload, CompletableFuture<byte[]> f) {
      pending.add(f);
      ByteBuf b = ch.alloc().buffer(4 + payload.length);
      b.writeInt(payload.length).writeBytes(payload);
      if (reading) {
        ch.write(b, ch.voidPromise()); // flushed when the read batch ends
      } else {
        ch.writeAndFlush(b, ch.voidPromise());
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf frame = (ByteBuf) msg;
      byte[] answer = new byte[frame.readableBytes()];
      frame.readBytes(answer);
      frame.release();
      reading = true;
      pending.poll().complete(answer);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      reading = false;
      ctx.flush();
    }
  }
}
