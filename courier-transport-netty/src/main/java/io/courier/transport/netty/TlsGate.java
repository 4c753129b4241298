package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a connection to a TLS port: a TLS record (first byte {@code 0x16}) puts
 * the {@link SslHandler} in its place, ahead of the handlers already there (protocol detection
 * on the shared port, HTTP on the HTTP port), which then see the decrypted bytes. Plaintext is
 * answered in its own protocol where it has one and the connection closed: a Courier frame with
 * a GOAWAY error, an HTTP/2 preface (h2c) with an HTTP/2 GOAWAY {@code INADEQUATE_SECURITY}, an
 * HTTP/1 request with 400; anything else is just closed.
 *
 * <p>The {@link SslHandler} stays first in the connection's pipeline for the connection's life,
 * whatever protocol follows, so the peer's certificates are at
 * {@code channel.pipeline().get(SslHandler.class).engine().getSession()}. Not sharable.
 */
final class TlsGate extends ByteToMessageDecoder {

  private static final Logger log = LoggerFactory.getLogger(TlsGate.class);
  /** The content type of a TLS handshake record, the first byte of every ClientHello. */
  private static final int HANDSHAKE_RECORD = 0x16;
  static final String PLAINTEXT_REFUSED =
      "this port requires TLS and the client sent plaintext";

  private final ServerTls tls;
  private final boolean httpPort;
  private final ServerDispatcher dispatcher;
  /** How long a refused connection is kept open to read and drop what its peer still sends. */
  static final long LINGER_MILLIS = 1_000;

  private boolean refused;

  TlsGate(ServerTls tls, boolean httpPort, ServerDispatcher dispatcher) {
    this.tls = tls;
    this.httpPort = httpPort;
    this.dispatcher = dispatcher;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (refused || !in.isReadable()) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int first = in.getUnsignedByte(in.readerIndex());
    if (first == HANDSHAKE_RECORD) {
      SslHandler ssl = tls.newHandler(ctx.channel(), httpPort);
      ctx.pipeline().addAfter(ctx.name(), "tls-events", new HandshakeEvents(dispatcher));
      // the bytes held here go on to the SslHandler, which takes this handler's place
      ctx.pipeline().replace(this, "tls", ssl);
      return;
    }
    if (first == 'P' && in.readableBytes() < 3) {
      return; // PRI (the HTTP/2 preface), or POST, PUT, PATCH: wait for the third byte
    }
    refused = true;
    dispatcher.protocolErrors.increment();
    log.debug("plaintext on a TLS port from {}", ctx.channel().remoteAddress());
    Object answer;
    if (first == (Frame.MAGIC >>> 8 & 0xFF)) {
      answer = FrameCodec.error(ctx.alloc(), Frame.FLAG_GOAWAY, 0,
          ErrorReason.TLS_HANDSHAKE_FAILED, PLAINTEXT_REFUSED
              + " (give the client TlsConfig: CourierClient.Builder.tls(...))");
    } else if (in.getByte(in.readerIndex()) == 'P' && in.getByte(in.readerIndex() + 1) == 'R'
        && in.getByte(in.readerIndex() + 2) == 'I') {
      answer = http2GoAway(ctx);
    } else if (first >= 'A' && first <= 'Z') {
      byte[] body = ("{\"code\":\"INVALID_ARGUMENT\",\"message\":\"" + PLAINTEXT_REFUSED
          + " (use https://)\"}").getBytes(StandardCharsets.UTF_8);
      String head = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8"
          + "\r\ncontent-length: " + body.length + "\r\nconnection: close\r\n\r\n";
      answer = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
    } else {
      in.skipBytes(in.readableBytes());
      ctx.close();
      return;
    }
    in.skipBytes(in.readableBytes());
    ctx.writeAndFlush(answer).addListener(f -> lingeringClose(ctx));
  }

  /**
   * Closes after the answer was written, without losing it: closing a socket whose peer's bytes
   * are still unread sends a TCP reset, and the peer's kernel may then drop the answer before its
   * client reads it. So the output is shut first (the peer reads the answer, then the end of the
   * stream), what the peer still sends is read and dropped, and the connection closes when the
   * peer closes its side or after {@link #LINGER_MILLIS}.
   */
  private static void lingeringClose(ChannelHandlerContext ctx) {
    if (!(ctx.channel() instanceof DuplexChannel duplex) || !ctx.channel().isActive()) {
      ctx.close();
      return;
    }
    duplex.shutdownOutput().addListener(f -> {
      if (!f.isSuccess()) {
        ctx.close();
      }
    });
    ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * A server preface (an empty SETTINGS frame) and a GOAWAY with {@code INADEQUATE_SECURITY} and
   * the reason as debug data: what an HTTP/2 client with prior knowledge (h2c) understands and
   * reports.
   */
  private static ByteBuf http2GoAway(ChannelHandlerContext ctx) {
    byte[] debug = (PLAINTEXT_REFUSED + " (gRPC over TLS: use the client's TLS settings)")
        .getBytes(StandardCharsets.US_ASCII);
    ByteBuf b = ctx.alloc().buffer(9 + 9 + 8 + debug.length);
    b.writeMedium(0).writeByte(0x4).writeByte(0).writeInt(0); // SETTINGS, empty
    b.writeMedium(8 + debug.length).writeByte(0x7).writeByte(0).writeInt(0); // GOAWAY
    b.writeInt(0); // last stream id
    b.writeInt((int) Http2Error.INADEQUATE_SECURITY.code());
    b.writeBytes(debug);
    return b;
  }

  /**
   * Right behind the {@link SslHandler}: a failed handshake (untrusted or missing client
   * certificate, a client that gave up, garbage) closes the connection quietly and is counted,
   * instead of reaching the protocol handlers as an error; after a good handshake it leaves.
   */
  static final class HandshakeEvents extends ChannelInboundHandlerAdapter {
    private final ServerDispatcher dispatcher;

    HandshakeEvents(ServerDispatcher dispatcher) {
      this.dispatcher = dispatcher;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (e.isSuccess()) {
          ctx.pipeline().remove(this);
        } else {
          dispatcher.protocolErrors.increment();
          log.debug("TLS handshake from {} failed: {}", ctx.channel().remoteAddress(),
              e.cause().toString());
          ctx.close();
        }
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (TlsContexts.isTlsFailure(cause)) {
        ctx.close(); // reported by the handshake event
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
