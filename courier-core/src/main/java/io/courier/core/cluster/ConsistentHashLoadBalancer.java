package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import io.courier.core.CallIds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A hash ring with 160 virtual nodes per endpoint, rebuilt when the set of endpoints changes.
 * Arguments are hashed by their {@code String.valueOf} form (MurmurHash3), which is stable across
 * JVMs for strings, numbers and records of them.
 */
final class ConsistentHashLoadBalancer implements LoadBalancer {

  private static final int VIRTUAL_NODES = 160;

  private final int argumentIndex;
  private volatile Ring ring;

  ConsistentHashLoadBalancer(int argumentIndex) {
    this.argumentIndex = argumentIndex;
  }

  private record Ring(List<String> addresses, int[] hashes, String[] owners) {}

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    C only = LoadBalancers.one(candidates);
    if (only != null) {
      return only;
    }
    if (argumentIndex >= args.length) {
      throw new IllegalArgumentException("consistent hash on argument " + argumentIndex
          + ", but the call has " + args.length + " arguments");
    }
    Ring r = ringFor(candidates);
    int h = CallIds.murmur3(String.valueOf(args[argumentIndex])
        .getBytes(StandardCharsets.UTF_8), 0);
    int at = Arrays.binarySearch(r.hashes, h);
    if (at < 0) {
      at = -at - 1;
    }
    if (at == r.hashes.length) {
      at = 0;
    }
    String owner = r.owners[at];
    for (C c : candidates) {
      if (c.address().equals(owner)) {
        return c;
      }
    }
    return candidates.get(0); // unreachable: the ring was built from these candidates
  }

  private Ring ringFor(List<? extends Candidate> candidates) {
    List<String> addresses = new ArrayList<>(candidates.size());
    for (Candidate c : candidates) {
      addresses.add(c.address());
    }
    Ring r = ring;
    if (r != null && r.addresses.equals(addresses)) {
      return r;
    }
    int n = addresses.size() * VIRTUAL_NODES;
    long[] packed = new long[n];
    int k = 0;
    for (int a = 0; a < addresses.size(); a++) {
      for (int v = 0; v < VIRTUAL_NODES; v++) {
        int h = CallIds.murmur3((addresses.get(a) + "#" + v).getBytes(StandardCharsets.UTF_8),
            0);
        packed[k++] = ((long) h << 32) | a; // sort by hash, remember the owner
      }
    }
    Arrays.sort(packed);
    int[] hashes = new int[n];
    String[] owners = new String[n];
    for (int i = 0; i < n; i++) {
      hashes[i] = (int) (packed[i] >> 32);
      owners[i] = addresses.get((int) packed[i]);
    }
    r = new Ring(List.copyOf(addresses), hashes, owners);
    ring = r;
    return r;
  }
}
