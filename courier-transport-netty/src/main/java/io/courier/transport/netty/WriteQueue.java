package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands work from application threads to a channel's event loop in batches: commands are queued
 * without a lock, one drain task runs them on the event loop, and the channel is flushed once per
 * batch (flush batching). Draining pauses while the channel is not writable and resumes when it
 * is again ({@link #resume()}), so a slow peer builds up {@link #pendingBytes()} instead of
 * unbounded outbound buffers; the owner refuses new work above its limit.
 *
 * <p>Thread-safe: {@link #enqueue} from any thread; everything else on the event loop.
 */
abstract class WriteQueue implements Runnable {

  private final Channel channel;
  private final Queue<Object> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicLong pendingBytes = new AtomicLong();

  /**
   * A command that writes itself, queued by code other than the queue's owner (the frames of
   * streaming calls). Runs on the event loop, in queue order.
   */
  interface Command {
    /** Writes (without flushing); returns whether anything was written. */
    boolean run(WriteQueue queue);

    /** Bytes counted as pending while queued. */
    int bytes();

    /** Releases what the command holds; it will never run. */
    void discard();
  }

  WriteQueue(Channel channel) {
    this.channel = channel;
  }

  /** Queues a command, counting {@code bytes} as pending until it is processed. */
  final void enqueue(Object command, int bytes) {
    pendingBytes.addAndGet(bytes);
    queue.add(command);
    if (scheduled.compareAndSet(false, true)) {
      channel.eventLoop().execute(this);
    }
  }

  /** Bytes queued and not yet handed to the channel. */
  final long pendingBytes() {
    return pendingBytes.get();
  }

  /** Re-runs the drain after the channel became writable again. Event loop only. */
  final void resume() {
    if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
      run();
    }
  }

  @Override
  public final void run() {
    boolean wrote = false;
    try {
      Object cmd;
      while (true) {
        if (!channel.isWritable()) {
          if (wrote) {
            channel.flush();
            afterFlush(); // every flush, or what it records for the batch piles up
            wrote = false;
          }
          if (!channel.isWritable() && channel.isActive()) {
            break; // resume() is called from channelWritabilityChanged
          }
        }
        cmd = queue.poll();
        if (cmd == null) {
          break;
        }
        if (cmd instanceof Command c) {
          pendingBytes.addAndGet(-c.bytes());
          wrote |= c.run(this);
          continue;
        }
        pendingBytes.addAndGet(-bytesOf(cmd));
        wrote |= process(cmd);
      }
      if (wrote) {
        channel.flush();
        afterFlush();
      }
    } finally {
      scheduled.set(false);
      if (!queue.isEmpty() && channel.isWritable() && scheduled.compareAndSet(false, true)) {
        channel.eventLoop().execute(this);
      }
    }
  }

  /** Fails or releases every queued command; called when the channel is gone. Event loop only. */
  final void drainOnClose() {
    Object cmd;
    while ((cmd = queue.poll()) != null) {
      if (cmd instanceof Command c) {
        pendingBytes.addAndGet(-c.bytes());
        c.discard();
        continue;
      }
      pendingBytes.addAndGet(-bytesOf(cmd));
      discard(cmd);
    }
  }

  /**
   * Writes a frame (without flushing), or releases it when the channel is gone; returns whether
   * it was written. Takes ownership of {@code frame}.
   */
  protected final boolean writeFrame(ByteBuf frame) {
    if (!channel.isActive()) {
      frame.release();
      return false;
    }
    channel.write(frame, channel.voidPromise());
    return true;
  }

  /** Writes one command (without flushing); returns whether anything was written. */
  protected abstract boolean process(Object command);

  /** The bytes counted for a command when it was queued. */
  protected abstract int bytesOf(Object command);

  /** Drops a command that will never be processed, releasing what it holds. */
  protected abstract void discard(Object command);

  /** Called after each flush. */
  protected void afterFlush() {}
}
