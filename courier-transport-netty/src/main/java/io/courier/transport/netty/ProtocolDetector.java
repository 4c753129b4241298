package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * The first handler of a server connection: looks at the first bytes once and leaves the
 * connection to the protocol they announce, then removes itself (the bytes it held go on to that
 * protocol's handlers).
 *
 * <ul>
 *   <li>the HTTP/2 connection preface ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}): gRPC;
 *   <li>an HTTP/1.x request line (a method token such as {@code GET} and a space): HTTP/1.1;
 *   <li>anything else, Courier's magic {@code 0xC0 0x1E} included: the Courier pipeline, already
 *       in place, which also answers a bad magic as it always has.
 * </ul>
 *
 * <p>A Courier connection is decided by its first byte, so the binary protocol waits for nothing.
 * Not sharable; runs on the channel's event loop.
 */
final class ProtocolDetector extends ByteToMessageDecoder {

  /** The protocols a connection can speak. */
  enum Protocol { COURIER, GRPC, HTTP1, UNDECIDED }

  static final byte[] HTTP2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private static final Set<String> HTTP1_METHODS =
      Set.of("GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "TRACE", "CONNECT");
  private static final int LONGEST_METHOD = 7;

  private final ServerDispatcher dispatcher;

  ProtocolDetector(ServerDispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  /** Decides the protocol from the bytes read so far (never consumes them). */
  static Protocol detect(ByteBuf in) {
    int n = in.readableBytes();
    if (n == 0) {
      return Protocol.UNDECIDED;
    }
    int start = in.readerIndex();
    byte first = in.getByte(start);
    if (first < 'A' || first > 'Z') {
      return Protocol.COURIER; // the Courier magic, or garbage Courier answers
    }
    boolean preface = true;
    for (int i = 0; i < Math.min(n, HTTP2_PREFACE.length); i++) {
      if (in.getByte(start + i) != HTTP2_PREFACE[i]) {
        preface = false;
        break;
      }
    }
    if (preface) {
      return n >= HTTP2_PREFACE.length ? Protocol.GRPC : Protocol.UNDECIDED;
    }
    for (int i = 0; i < Math.min(n, LONGEST_METHOD + 1); i++) {
      byte b = in.getByte(start + i);
      if (b == ' ') {
        String token = in.toString(start, i, StandardCharsets.US_ASCII);
        return HTTP1_METHODS.contains(token) ? Protocol.HTTP1 : Protocol.COURIER;
      }
      if (b < 'A' || b > 'Z') {
        return Protocol.COURIER;
      }
    }
    return n > LONGEST_METHOD ? Protocol.COURIER : Protocol.UNDECIDED;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    Protocol p = detect(in);
    if (p == Protocol.UNDECIDED) {
      return;
    }
    ChannelPipeline pipeline = ctx.pipeline();
    if (p != Protocol.COURIER) {
      removeCourierHandlers(pipeline);
      if (p == Protocol.GRPC) {
        GrpcPipeline.install(pipeline, dispatcher);
      } else {
        Http1Pipeline.install(pipeline, dispatcher);
      }
    }
    // the bytes held here are passed on to whatever now follows this handler
    pipeline.remove(this);
  }

  private static void removeCourierHandlers(ChannelPipeline pipeline) {
    for (String name : new String[] {"frames", "idle", "calls"}) {
      if (pipeline.get(name) != null) {
        pipeline.remove(name);
      }
    }
  }
}
