package io.courier.transport.netty;

import io.courier.core.CallIds;
import io.netty.util.collection.IntObjectHashMap;
import java.util.Collection;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A connection's calls in flight by request id. Netty's {@link IntObjectHashMap} places a key at
 * {@code key & mask} and probes linearly, so the consecutive ids a client hands out fill one long
 * run of slots, and each removal scans that run to its end: with 256 calls in flight that scan
 * was the hottest method of a benchmark on both sides. Keys are therefore scrambled first with
 * a bijection (so distinct ids stay distinct) seeded per table (so a peer choosing ids cannot aim
 * them at one run). Not thread-safe: confined to the connection's event loop.
 */
final class CallTable<V> {

  private final IntObjectHashMap<V> map = new IntObjectHashMap<>();
  private final int seed = ThreadLocalRandom.current().nextInt();

  /** A seeded bijection: distinct ids stay distinct, consecutive ones land far apart. */
  private int scramble(int id) {
    return CallIds.fmix32(id ^ seed);
  }

  V get(int id) {
    return map.get(scramble(id));
  }

  boolean containsKey(int id) {
    return map.containsKey(scramble(id));
  }

  void put(int id, V value) {
    map.put(scramble(id), value);
  }

  V remove(int id) {
    return map.remove(scramble(id));
  }

  int size() {
    return map.size();
  }

  boolean isEmpty() {
    return map.isEmpty();
  }

  Collection<V> values() {
    return map.values();
  }

  void clear() {
    map.clear();
  }
}
