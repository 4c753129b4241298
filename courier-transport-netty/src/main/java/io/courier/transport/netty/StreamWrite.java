package io.courier.transport.netty;

import io.courier.internal.protocol.Frame;
import io.netty.buffer.ByteBuf;

/**
 * One frame of a streaming call on its way through the connection's write queue. The request id
 * is written into the frame when it leaves: a client stream learns its id only when its opening
 * frame is written, and frames queued behind that one are stamped with it.
 */
final class StreamWrite implements WriteQueue.Command {

  private final StreamCall call;
  private final ByteBuf frame;
  private final Runnable afterWrite;

  /** @param afterWrite runs once the frame is written or dropped; may be null */
  StreamWrite(StreamCall call, ByteBuf frame, Runnable afterWrite) {
    this.call = call;
    this.frame = frame;
    this.afterWrite = afterWrite;
  }

  @Override
  public boolean run(WriteQueue queue) {
    int id = call.requestId;
    boolean wrote = false;
    if (id == 0) {
      frame.release(); // the stream was never opened; it has failed already
    } else {
      frame.setInt(Frame.OFF_REQUEST_ID, id);
      wrote = queue.writeFrame(frame);
    }
    if (afterWrite != null) {
      afterWrite.run();
    }
    return wrote;
  }

  @Override
  public int bytes() {
    return frame.readableBytes();
  }

  @Override
  public void discard() {
    frame.release();
    if (afterWrite != null) {
      afterWrite.run();
    }
  }
}
