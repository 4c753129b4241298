package io.courier.internal.server;

import io.courier.core.CallIds;
import java.util.Collection;

/**
 * Call ID to {@link ServerMethod}: an open-addressing table of primitive ints built once at
 * registration, so a lookup on the hot path is a few array reads (no boxing, no strings).
 * Immutable after construction; safe to read from any thread.
 */
public final class DispatchTable {

  private final int[] keys;
  private final ServerMethod[] values;
  private final int mask;

  /**
   * Builds the table.
   *
   * @throws IllegalArgumentException when two methods share a call ID
   */
  public DispatchTable(Collection<ServerMethod> methods) {
    int cap = Integer.highestOneBit(Math.max(4, methods.size() * 2 - 1)) << 1;
    keys = new int[cap];
    values = new ServerMethod[cap];
    mask = cap - 1;
    for (ServerMethod m : methods) {
      int id = m.callId();
      int i = mix(id) & mask;
      while (values[i] != null) {
        if (keys[i] == id) {
          throw new IllegalArgumentException("call ID collision: " + values[i].descriptor().signature()
              + " and " + m.descriptor().signature() + " both have call ID " + CallIds.toHex(id)
              + "; rename one method or give one service another @ServiceName");
        }
        i = (i + 1) & mask;
      }
      keys[i] = id;
      values[i] = m;
    }
  }

  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x45d9f3b;
    return h ^ (h >>> 16);
  }

  /** Every method in the table, in no particular order. */
  public java.util.List<ServerMethod> methods() {
    java.util.List<ServerMethod> list = new java.util.ArrayList<>();
    for (ServerMethod m : values) {
      if (m != null) {
        list.add(m);
      }
    }
    return list;
  }

  /** The method with the call ID, or null. */
  public ServerMethod get(int callId) {
    int i = mix(callId) & mask;
    ServerMethod v;
    while ((v = values[i]) != null) {
      if (keys[i] == callId) {
        return v;
      }
      i = (i + 1) & mask;
    }
    return null;
  }
}
