package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.internal.codec.Bodies;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.spi.Compressor;
import io.netty.buffer.ByteBuf;

/**
 * Completes an outgoing frame whose header (and metadata block, its length set in the header)
 * is written: its body (compressed above the threshold),
 * the compressor id, the frame-size check and the lengths. One place for unary requests, stream
 * openings and stream messages. Stateless.
 */
final class OutboundBodies {

  private OutboundBodies() {}

  /**
   * Writes the body into {@code buf} and finishes the frame; on any failure releases {@code buf}
   * and throws: {@code PAYLOAD_TOO_LARGE} ({@code sizePrefix + subject}) when the body is above
   * {@code maxFrameBytes}, an {@code RpcException} from the writer as it is, anything else as
   * {@code failure} ({@code failurePrefix + subject}). The texts are only built on failure.
   *
   * @return {@code buf}, ready to send
   */
  static ByteBuf finish(ByteBuf buf, Bodies.BodyWriter writer, Compressor compressor,
      int compressionThreshold, int maxFrameBytes, String subject, String sizePrefix,
      ErrorReason failure, String failurePrefix) {
    try {
      int used = Bodies.write(buf, writer, compressor, compressionThreshold);
      buf.setByte(Frame.OFF_COMPRESSOR, used);
      int metadata = buf.getUnsignedShort(Frame.OFF_METADATA_LENGTH); // written before the body
      int body = buf.readableBytes() - Frame.HEADER_LENGTH - metadata;
      if (body > maxFrameBytes) {
        throw new RpcException(ErrorReason.PAYLOAD_TOO_LARGE, sizePrefix + subject + " is " + body
            + " bytes, above the frame limit of " + maxFrameBytes + " bytes (maxFrameBytes)");
      }
      FrameCodec.finish(buf, 0, metadata);
      return buf;
    } catch (RpcException e) {
      buf.release();
      throw e;
    } catch (Throwable t) {
      buf.release();
      throw Bodies.readFailure(t, failure, failurePrefix + subject);
    }
  }
}
