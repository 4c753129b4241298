package io.courier.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private Linux network namespace joined to the test's own by a veth pair: the namespace side
 * has {@link #inside} and a default route through the test's side, {@link #outside}, so a process
 * started in it ({@link #command()}) reaches the test JVM's servers on {@link #outside} and is
 * reached on {@link #inside}. Faults are nftables rules and traffic-control queues of the
 * namespace only, so nothing else on the machine sees them.
 *
 * <p>Needs root, iproute2, nftables ({@code nft}) and {@code tc}; {@code .ci/run} installs what
 * is missing. Without them the constructor fails with a message naming what is missing: the
 * tests that need a namespace fail, they are not skipped.
 */
final class NetNamespace implements AutoCloseable {

  private static final String TABLE = "courier_fault";

  /** The namespace's name, for {@code ip netns exec}. */
  final String name;
  /** The namespace side's address. */
  final String inside;
  /** The test side's address (a local address of the test JVM's namespace). */
  final String outside;
  private final String hostLink;
  private final String nsLink;
  private boolean closed;

  private NetNamespace(String name, String hostLink, String nsLink, String inside,
      String outside) {
    this.name = name;
    this.hostLink = hostLink;
    this.nsLink = nsLink;
    this.inside = inside;
    this.outside = outside;
  }

  /** Creates a namespace with a fresh /30 subnet in 10.213.0.0/16 and an empty fault table. */
  static NetNamespace create() {
    int k = freeIndex();
    String name = "courier-it-" + k;
    String host = "cvh" + k;
    String peer = "cvp" + k;
    int a = k >> 6;
    int b = (k & 63) << 2;
    String outside = "10.213." + a + "." + (b + 1);
    String inside = "10.213." + a + "." + (b + 2);
    NetNamespace ns = new NetNamespace(name, host, peer, inside, outside);
    try {
      // name lookups (ZooKeeper's client resolves the server's address back to a name) must
      // fail at once, not wait for a name server the namespace cannot reach
      Files.createDirectories(etc(name));
      Files.writeString(etc(name).resolve("resolv.conf"), "nameserver 127.0.0.1\n");
      run("ip", "netns", "add", name);
      run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
      run("ip", "link", "set", peer, "netns", name);
      run("ip", "addr", "add", outside + "/30", "dev", host);
      run("ip", "link", "set", host, "up");
      run("ip", "-n", name, "addr", "add", inside + "/30", "dev", peer);
      run("ip", "-n", name, "link", "set", peer, "up");
      run("ip", "-n", name, "link", "set", "lo", "up");
      run("ip", "-n", name, "route", "add", "default", "via", outside);
      ns.nft("add table inet " + TABLE);
      ns.nft("add chain inet " + TABLE + " in { type filter hook input priority 0 ; }");
      ns.nft("add chain inet " + TABLE + " out { type filter hook output priority 0 ; }");
    } catch (IOException e) {
      ns.close();
      throw new IllegalStateException("cannot write " + etc(name) + ": the network fault tests"
          + " need root", e);
    } catch (RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  /** Files {@code ip netns exec} mounts over {@code /etc} for the namespace. */
  private static Path etc(String name) {
    return Path.of("/etc/netns", name);
  }

  /** An index whose interface names are free; random, so parallel runs rarely collide. */
  private static int freeIndex() {
    for (int attempt = 0; attempt < 200; attempt++) {
      int k = 1 + ThreadLocalRandom.current().nextInt(4000);
      if (!Files.exists(Path.of("/sys/class/net/cvh" + k))
          && !Files.exists(Path.of("/var/run/netns/courier-it-" + k))) {
        return k;
      }
    }
    throw new IllegalStateException("no free namespace index after 200 tries");
  }

  /** The command prefix that runs a program in this namespace. */
  List<String> command() {
    return List.of("ip", "netns", "exec", name);
  }

  /**
   * Drops every packet to or from TCP port {@code port} of the namespace, both ways, without a
   * reset: established connections go silent (half-open) and new ones hang in SYN.
   */
  void blackhole(int port) {
    nft("add rule inet " + TABLE + " in tcp dport " + port + " counter drop");
    nft("add rule inet " + TABLE + " out tcp sport " + port + " counter drop");
  }

  /** Drops {@code percent} % of the packets to and from TCP port {@code port}, at random. */
  void loss(int port, int percent) {
    nft("add rule inet " + TABLE + " in tcp dport " + port + " numgen random mod 100 < "
        + percent + " counter drop");
    nft("add rule inet " + TABLE + " out tcp sport " + port + " numgen random mod 100 < "
        + percent + " counter drop");
  }

  /** Removes every packet rule: the link is healed. */
  void heal() {
    nft("flush chain inet " + TABLE + " in");
    nft("flush chain inet " + TABLE + " out");
  }

  /**
   * Limits what the namespace sends to {@code rate} (a {@code tc} rate such as {@code 1mbit}) with
   * a token bucket ({@code tc tbf}).
   */
  void limitUpload(String rate) {
    run("tc", "-n", name, "qdisc", "add", "dev", nsLink, "root", "tbf", "rate", rate, "burst",
        "32kbit", "latency", "400ms");
  }

  /** Limits what the namespace receives to {@code rate}, with a token bucket on the test side. */
  void limitDownload(String rate) {
    run("tc", "qdisc", "add", "dev", hostLink, "root", "tbf", "rate", rate, "burst", "32kbit",
        "latency", "400ms");
  }

  /** Packets the rules now in force have dropped. */
  long droppedPackets() {
    long n = 0;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("counter packets (\\d+)")
        .matcher(rules());
    while (m.find()) {
      n += Long.parseLong(m.group(1));
    }
    return n;
  }

  /** The packet rules now in force, for a failure message. */
  String rules() {
    return run("ip", "netns", "exec", name, "nft", "list", "table", "inet", TABLE);
  }

  private void nft(String rule) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name, "nft"));
    cmd.addAll(List.of(rule.split(" ")));
    run(cmd.toArray(String[]::new));
  }

  /** Deletes the namespace and both ends of its link. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    quietly("ip", "netns", "del", name);
    quietly("ip", "link", "del", hostLink);
    try {
      Files.deleteIfExists(etc(name).resolve("resolv.conf"));
      Files.deleteIfExists(etc(name));
    } catch (IOException ignored) {
      // left behind: harmless
    }
  }

  private static void quietly(String... cmd) {
    try {
      run(cmd);
    } catch (RuntimeException ignored) {
      // already gone
    }
  }

  /**
   * Runs a command and returns its output.
   *
   * @throws IllegalStateException when it cannot start or exits with an error, naming what the
   *     tests need
   */
  static String run(String... cmd) {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run '" + String.join(" ", cmd) + "' (" + e.getMessage()
          + "): the network fault tests need root, iproute2 (ip, tc) and nftables (nft);"
          + " .ci/run installs them", e);
    }
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("'" + String.join(" ", cmd) + "' did not finish in 30 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("'" + String.join(" ", cmd) + "' failed with exit code "
            + p.exitValue() + ": " + out.trim() + " (the network fault tests need root,"
            + " iproute2 and nftables; .ci/run installs them)");
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("reading the output of '" + String.join(" ", cmd) + "'", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running '" + String.join(" ", cmd) + "'", e);
    }
  }

  @Override
  public String toString() {
    return "netns " + name + " (" + inside + ")";
  }
}
