package io.courier.bench.jmh;

import io.netty.buffer.ByteBuf;

/** Releases the buffers a benchmark holds for its whole run, checking none was leaked or lost. */
final class Leaks {

  private Leaks() {}

  /**
   * Releases {@code buf}, which must be held by its owner alone: a higher count means some
   * operation kept a reference it never released, a lower one that it released one it did not
   * own.
   */
  static void releaseLast(ByteBuf buf, String what) {
    int refs = buf.refCnt();
    if (refs != 1) {
      if (refs > 0) {
        buf.release(refs);
      }
      throw new IllegalStateException(what + " has reference count " + refs
          + " at the end of the run (expected 1): a benchmark "
          + (refs > 1 ? "leaked" : "over-released") + " it");
    }
    buf.release();
  }
}
