package io.courier.bench.jmh;

import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.server.DispatchTable;
import io.courier.internal.server.ServerMethod;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Finding the method of a request by its call ID, as the server's connection handler does for
 * every request frame: {@link DispatchTable#get(int)} (open addressing on primitive ints) against
 * a {@code HashMap<Integer, ServerMethod>} holding the same methods (the call ID boxed on each
 * lookup, as a map keyed by {@code Integer} needs).
 *
 * <p>The methods are real {@link ServerMethod}s of real service interfaces (10 methods, or ten
 * services of 20); each operation looks up the next call ID of a fixed pseudo-random sequence of
 * 1024 IDs of those methods, so that branch prediction does not learn a single key.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DispatchBenchmark {

  private static final int SEQUENCE = 1024;

  @Param({"10", "200"})
  public int methods;

  private DispatchTable table;
  private Map<Integer, ServerMethod> map;
  private int[] callIds;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    List<Class<?>> services = switch (methods) {
      case 10 -> List.of(DispatchServices.Ten.class);
      case 200 -> List.of(DispatchServices.TWENTY_EACH);
      default ->
          throw new IllegalArgumentException("methods: " + methods + " (expected 10 or 200)");
    };
    List<ServerMethod> all = new ArrayList<>();
    for (Class<?> service : services) {
      Object implementation = Proxy.newProxyInstance(service.getClassLoader(),
          new Class<?>[] {service}, (proxy, method, arguments) -> null);
      for (MethodDescriptor md : ServiceDescriptor.of(service).methods()) {
        all.add(new ServerMethod(md, implementation, List.of(), List.of(), null));
      }
    }
    if (all.size() != methods) {
      throw new IllegalStateException("built " + all.size() + " methods, expected " + methods);
    }
    table = new DispatchTable(all);
    map = new HashMap<>();
    for (ServerMethod m : all) {
      map.put(m.callId(), m);
    }
    Random random = new Random(42);
    callIds = new int[SEQUENCE];
    for (int i = 0; i < SEQUENCE; i++) {
      callIds[i] = all.get(random.nextInt(all.size())).callId();
    }
    for (int id : callIds) {
      if (table.get(id) != map.get(id)) {
        throw new IllegalStateException("the table and the map disagree on " + id);
      }
    }
  }

  /** Looks the next call ID up in the dispatch table. */
  @Benchmark
  public ServerMethod dispatchTable() {
    return table.get(callIds[next++ & (SEQUENCE - 1)]);
  }

  /** Looks the next call ID up in a hash map keyed by boxed call IDs. */
  @Benchmark
  public ServerMethod hashMap() {
    return map.get(callIds[next++ & (SEQUENCE - 1)]);
  }
}
